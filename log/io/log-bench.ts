// `npm run bench:log`: the log service end to end. Three real `mnemo log`
// processes on loopback (one per simulated AZ, each with its own WAL in a
// temp dir), a LogClient per 16 appenders in this process, and for 1, 16 and
// 256 concurrent appenders: committed records/s and p50/p99 commit latency of
// one append (from the call to its acknowledgement, i.e. after a majority
// fsynced and the leader applied it). Each appender owns a shard (its own
// lease from tryTakeLease) and keeps one append in flight, carrying
// `batch` 100-byte records (a server batches the effects of one event-loop
// turn into one append). A side loop trims every shard to its tip - trimKeep
// once a second, as the snapshotter would (nodes compact their WALs on their
// own meanwhile, with their default thresholds). On the same disk, the raw cost of
// write(100 B) + fdatasync and of write(100 x 100 B) + fdatasync.
//
//   node dist/log/io/log-bench.js [--reps 3] [--seconds 5] [--cases 1x1,16x1,256x16]
//                                 [--az-delay-ms 0] [--dir /tmp] [--trim-keep 1000]
// (a case is APPENDERSxBATCH). Ports 17500-17599.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LogClient } from "../client";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const MNEMO_JS = path.join(ROOT, "dist", "bin", "mnemo.js");
const IDS = ["az-a", "az-b", "az-c"] as const;
const PEER_PORT = 17500;
const CLIENT_PORT = 17510;
const SECRET = "bench-secret";
const RECORD = Buffer.alloc(100, 0x72);
const APPENDERS_PER_CLIENT = 16;

interface Args {
  reps: number;
  seconds: number;
  cases: { appenders: number; batch: number }[];
  azDelayMs: number;
  dir: string;
  /** Records each shard keeps behind its tip when the side loop trims it. */
  trimKeep: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { reps: 3, seconds: 5, cases: [], azDelayMs: 0, dir: os.tmpdir(), trimKeep: 1000 };
  let cases = "1x1,16x1,256x16";
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    const v = argv[i + 1] ?? "";
    if (k === "--reps") a.reps = Number(v);
    else if (k === "--seconds") a.seconds = Number(v);
    else if (k === "--cases") cases = v;
    else if (k === "--az-delay-ms") a.azDelayMs = Number(v);
    else if (k === "--dir") a.dir = v;
    else if (k === "--trim-keep") a.trimKeep = Number(v);
    else throw new Error(`unknown option ${String(k)}`);
  }
  for (const c of cases.split(",")) {
    const m = /^(\d+)x(\d+)$/.exec(c);
    if (m === null) throw new Error(`bad case ${c} (want APPENDERSxBATCH)`);
    a.cases.push({ appenders: Number(m[1]), batch: Number(m[2]) });
  }
  return a;
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** p50 in µs of `n` rounds of one write of `records` x 100 B + fdatasync. */
function rawSyncP50Us(dir: string, records: number, n = 2000): number {
  const file = path.join(dir, `raw-${records}`);
  const fd = fs.openSync(file, "a");
  const buf = Buffer.alloc(100 * records, 0x62);
  const lat: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      fs.writeSync(fd, buf);
      fs.fdatasyncSync(fd);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  lat.sort((x, y) => x - y);
  return pct(lat, 0.5);
}

/** The same, in `n` processes at once (three log nodes share this disk): the median of their p50s. */
async function rawSyncConcurrentP50Us(dir: string, n: number): Promise<number> {
  const script = `
    const fs = require("fs"); const f = process.argv[1]; const fd = fs.openSync(f, "a"); const b = Buffer.alloc(100, 98); const lat = [];
    for (let i = 0; i < 1000; i++) { const t = process.hrtime.bigint(); fs.writeSync(fd, b); fs.fdatasyncSync(fd); lat.push(Number(process.hrtime.bigint() - t) / 1e3); }
    fs.closeSync(fd); fs.rmSync(f); lat.sort((x, y) => x - y); process.stdout.write(String(lat[500]));`;
  const runs = Array.from(
    { length: n },
    (_, i) =>
      new Promise<number>((resolve, reject) => {
        const c = spawn(process.execPath, ["-e", script, path.join(dir, `raw-conc-${i}`)], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        c.stdout?.on("data", (d: Buffer) => (out += d.toString()));
        c.on("exit", (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`raw sync child exited with ${String(code)}`))));
      }),
  );
  const p50s = (await Promise.all(runs)).sort((x, y) => x - y);
  return p50s[Math.floor(p50s.length / 2)] ?? 0;
}

interface Cluster {
  procs: ChildProcess[];
  dir: string;
}

function startNode(dir: string, i: number, azDelayMs: number): Promise<ChildProcess> {
  const id = IDS[i] as string;
  const peers = IDS.map((p, j) => [p, j] as const)
    .filter(([p]) => p !== id)
    .map(([p, j]) => `${p}=127.0.0.1:${PEER_PORT + j}`)
    .join(",");
  const args = [MNEMO_JS, "log", "--id", id, "--port", String(PEER_PORT + i), "--peers", peers, "--data-dir", path.join(dir, id)];
  args.push("--secret-file", path.join(dir, "secret"), "--client-port", String(CLIENT_PORT + i), "--az-delay-ms", String(azDelayMs));
  // Profiling hook, e.g. MNEMO_LOG_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env["MNEMO_LOG_BENCH_NODE_ARGS"] ?? "").split(" ").filter((x) => x !== "");
  const child = spawn(process.execPath, [...nodeArgs, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} did not start: ${out}`)), 15_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("listening on")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on("data", (d: Buffer) => {
      out += d.toString();
      process.stderr.write(`[${id}] ${d.toString()}`);
    });
    child.on("exit", (code) => reject(new Error(`${id} exited with ${String(code)}: ${out}`)));
  });
}

async function startCluster(parent: string, azDelayMs: number): Promise<Cluster> {
  const dir = fs.mkdtempSync(path.join(parent, "mnemo-log-bench-"));
  fs.writeFileSync(path.join(dir, "secret"), `${SECRET}\n`);
  const procs = await Promise.all(IDS.map((_, i) => startNode(dir, i, azDelayMs)));
  return { procs, dir };
}

async function stopCluster(c: Cluster): Promise<void> {
  await Promise.all(
    c.procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exitCode !== null) return resolve();
          p.on("exit", () => resolve());
          p.kill("SIGTERM");
        }),
    ),
  );
  fs.rmSync(c.dir, { recursive: true, force: true });
}

export interface CaseResult {
  readonly appenders: number;
  readonly batch: number;
  readonly recordsPerSec: number;
  readonly appendsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

interface Appender {
  readonly shard: string;
  readonly client: LogClient;
  leaseId: number;
  tip: number;
}

async function setupAppenders(clients: readonly LogClient[], n: number, tag: string): Promise<Appender[]> {
  const out: Appender[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const client = clients[Math.floor(i / APPENDERS_PER_CLIENT) % clients.length] as LogClient;
      const shard = `${tag}-${i}`;
      const g = await client.tryTakeLease(shard, `bench-${i}`, 0, 600_000);
      if (g.kind !== "granted") throw new Error(`lease for ${shard}: ${JSON.stringify(g)}`);
      out.push({ shard, client, leaseId: g.leaseId, tip: 0 });
    }),
  );
  return out;
}

async function runCase(clients: readonly LogClient[], appenders: number, batch: number, seconds: number, tag: string, trimKeep: number): Promise<CaseResult> {
  const apps = await setupAppenders(clients, appenders, tag);
  const records = Array.from({ length: batch }, () => RECORD);
  const warmupEnd = performance.now() + 1000;
  const end = warmupEnd + seconds * 1000;
  const lat: number[] = [];
  let committed = 0;
  let appends = 0;
  const trimmer = setInterval(() => {
    for (const a of apps) if (a.tip > trimKeep) void a.client.trim(a.shard, a.tip - trimKeep).catch(() => {});
  }, 1000);
  await Promise.all(
    apps.map(async (a) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const r = await a.client.append(a.shard, records, { expectedSeq: a.tip, leaseId: a.leaseId });
        const t1 = performance.now();
        // A retry after a lost reply (the nodes paused, e.g. to compact) reports the records in by the tip.
        if (r.kind === "conflictAfterRetry" && r.recordsIn) a.tip = r.tip;
        else if (r.kind === "ok") a.tip = r.lastSeq;
        else throw new Error(`append to ${a.shard}: ${JSON.stringify(r)}`);
        if (t0 >= warmupEnd && t1 <= end) {
          lat.push((t1 - t0) * 1000);
          committed += batch;
          appends++;
        }
      }
    }),
  );
  clearInterval(trimmer);
  lat.sort((x, y) => x - y);
  return {
    appenders,
    batch,
    recordsPerSec: Math.round(committed / seconds),
    appendsPerSec: Math.round(appends / seconds),
    p50Us: Math.round(pct(lat, 0.5)),
    p99Us: Math.round(pct(lat, 0.99)),
  };
}

/** Each node's compaction counters (it compacts on its own during the run). */
async function reportCompaction(addrs: readonly { id: string; host: string; port: number }[]): Promise<void> {
  const parts: string[] = [];
  for (const a of addrs) {
    const one = new LogClient([a], SECRET, { requestTimeoutMs: 5000 });
    try {
      const st = await one.status();
      const c = st["compaction"] as { compactions: number; snapshotBytes: number; lastEncodeMs: number; lastCompactionMs: number; blocked: string | null };
      const last = `last ${c.snapshotBytes} B: ${Math.round(c.lastEncodeMs)} ms encoding, ${Math.round(c.lastCompactionMs)} ms in all`;
      parts.push(`${a.id}: ${c.compactions} compactions, ${last}${c.blocked === null ? "" : ` (blocked: ${c.blocked})`}`);
    } finally {
      await one.close();
    }
  }
  console.log(`  compaction: ${parts.join("; ")}`);
}

function spread(xs: readonly number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s[Math.floor(s.length / 2)] ?? 0;
  return s.length === 1 ? String(med) : `${med} (${s[0]}..${s[s.length - 1]})`;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  console.log(`log bench: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), node ${process.version}, dir ${a.dir}, az delay ${a.azDelayMs} ms`);
  const raw1: number[] = [];
  const raw100: number[] = [];
  const raw3: number[] = [];
  const results = new Map<string, CaseResult[]>();
  for (let rep = 0; rep < a.reps; rep++) {
    const cluster = await startCluster(a.dir, a.azDelayMs);
    raw1.push(Math.round(rawSyncP50Us(cluster.dir, 1)));
    raw100.push(Math.round(rawSyncP50Us(cluster.dir, 100)));
    raw3.push(Math.round(await rawSyncConcurrentP50Us(cluster.dir, 3)));
    const addrs = IDS.map((id, i) => ({ id, host: "127.0.0.1", port: CLIENT_PORT + i }));
    try {
      for (const c of a.cases) {
        const n = Math.max(1, Math.ceil(c.appenders / APPENDERS_PER_CLIENT));
        const clients = Array.from({ length: n }, () => new LogClient(addrs, SECRET, { requestTimeoutMs: 30_000 }));
        try {
          const r = await runCase(clients, c.appenders, c.batch, a.seconds, `r${rep}-${c.appenders}x${c.batch}`, a.trimKeep);
          const key = `${c.appenders}x${c.batch}`;
          results.set(key, [...(results.get(key) ?? []), r]);
          console.log(`rep ${rep + 1}: ${String(c.appenders).padStart(3)} appenders x ${String(c.batch).padStart(2)} records/append: ${r.recordsPerSec} records/s, ${r.appendsPerSec} appends/s, p50 ${r.p50Us} us, p99 ${r.p99Us} us`);
        } finally {
          for (const cl of clients) await cl.close();
        }
      }
      await reportCompaction(addrs);
    } finally {
      await stopCluster(cluster);
    }
  }
  console.log(`\nraw write(100 B)+fdatasync p50: ${spread(raw1)} us; write(100 x 100 B)+fdatasync p50: ${spread(raw100)} us`);
  console.log(`raw write(100 B)+fdatasync p50 with 3 processes syncing at once: ${spread(raw3)} us`);
  console.log("median (min..max) over reps:");
  for (const [key, rs] of results) {
    const rps = spread(rs.map((r) => r.recordsPerSec));
    console.log(`  ${key.padEnd(7)} records/s ${rps}; p50 us ${spread(rs.map((r) => r.p50Us))}; p99 us ${spread(rs.map((r) => r.p99Us))}`);
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`log bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
