// The snapshotter: one per shard, a process of its own (serving nodes do
// nothing for a snapshot). It loads the newest snapshot that validates into
// its own replica-mode engine (it never expires keys: expiry is the
// primary's, as DEL effects in the log), then, every second, follows the log
// up to the tip it sees at that moment and, when the newest snapshot lags
// enough (records or bytes) or a snapshot was requested, writes one:
//
//   write under a pending name -> read it back into a fresh engine (every
//   check of readSnapshot, and its checksum must equal this engine's) ->
//   publish under its snapshot name -> keep the newest N -> trim the log
//   below (seq - margin).
//
// A snapshot's seq is always a batch boundary (RecordReader.partial false),
// so a server restoring from it continues at seq+1 with a fresh reader.
// `mnemo snapshot now` drops a request file into the store's directory; the
// snapshotter answers it in a done file naming the request and the seq.
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { parseReply } from "../resp/call";
import { Engine } from "../engine/engine";
import { LogClient, type LogNodeClientAddress } from "../log/client";
import { RecordReader } from "../cluster/record";
import { readSnapshot, snapshotChunks } from "./format";
import { progressReporter } from "./progress";
import { FsStore, listSnapshots, retainNewest, snapshotName, type ObjectStore } from "./store";

export interface SnapshotterOptions {
  readonly shard: number;
  readonly logNodes: readonly LogNodeClientAddress[];
  readonly secret: string;
  readonly dir: string;
  readonly everyRecords: number;
  readonly everyBytes: number;
  readonly keep: number;
  readonly trimMargin: number;
  readonly log: (line: string) => void;
  /** Scheduling period (default 1000 ms). */
  readonly tickMs?: number;
}

export const REQUEST_FILE = ".snapshot-request";
export const DONE_FILE = ".snapshot-done";
/** The round in progress (SnapshotProgress as JSON), for `mnemo snapshot now`'s bars; removed when the round ends. */
export const PROGRESS_FILE = ".snapshot-progress";
/** Progress is written at most this often. */
const PROGRESS_EVERY_MS = 200;

/** Where the snapshotter's current round stands. */
export interface SnapshotProgress {
  /** catch-up: applying the log up to the tip (records); write: keys serialized; verify: bytes read back. */
  readonly phase: "catch-up" | "write" | "verify";
  readonly seq: number;
  readonly done: number;
  readonly total: number;
  readonly atMs: number;
}
const PENDING_PREFIX = "pending-";
const READ_COUNT_MAX = 1024;
const READ_BYTES_MAX = 4 * 1024 * 1024;
/** The log checksum is not computed by the primary yet: snapshots record zeros. */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A replica-mode engine: applies effects only and never expires keys itself. */
export function snapshotEngine(): Engine {
  return new Engine({ role: "replica", recordEffects: false });
}

export class Snapshotter {
  private engine: Engine = snapshotEngine();
  private reader = new RecordReader();
  /** Highest seq pushed into the reader. */
  private readSeq = 0;
  /** Highest seq at which the reader held no partial batch: the engine's state is exactly this seq. */
  private boundarySeq = 0;
  /** The log's running checksum at boundarySeq (recorded in the snapshot, so a restore can go on checking). */
  private boundaryChecksum: Buffer = new RecordReader().checksum;
  /** Record bytes applied since the newest snapshot. */
  private bytesSince = 0;
  /** Seq of the newest published snapshot (0: none). */
  newestSeq = 0;
  private stopped = false;
  /** The round in progress, or null (status port, progress file). */
  progress: SnapshotProgress | null = null;
  private progressWrittenMs = 0;

  /** The seq the snapshotter's engine holds (a batch boundary). */
  get appliedSeq(): number {
    return this.boundarySeq;
  }
  private readonly client: LogClient;
  private store!: FsStore;

  constructor(readonly o: SnapshotterOptions) {
    this.client = new LogClient(o.logNodes, o.secret, { requestTimeoutMs: 5000 });
  }

  /** Opens the store and loads the newest snapshot that validates. */
  async init(): Promise<void> {
    this.store = await new FsStore(this.o.dir).open();
    const swept = await this.store.sweepTemporaries();
    if (swept.length > 0) this.o.log(`removed ${swept.length} temporaries left by an interrupted write`);
    for (const name of await this.store.list()) if (name.startsWith(PENDING_PREFIX)) await this.store.delete(name);
    for (const s of await listSnapshots(this.store)) {
      const size = await fs.promises.stat(path.join(this.o.dir, s.name)).then((st) => st.size, () => 0);
      const bar = progressReporter({ label: `loading ${s.name}`, total: size, unit: "bytes", log: this.o.log });
      try {
        const loaded = await readSnapshot(this.store.get(s.name), { newEngine: snapshotEngine, onProgress: (n) => bar.update(n) });
        bar.stop();
        this.engine = loaded.engine;
        this.readSeq = this.boundarySeq = this.newestSeq = loaded.header.seq;
        this.reader = new RecordReader(loaded.header.logChecksum);
        this.boundaryChecksum = this.reader.checksum;
        this.o.log(`loaded ${s.name}: ${loaded.keys} keys at seq ${loaded.header.seq}`);
        return;
      } catch (e) {
        bar.stop();
        this.o.log(`snapshot ${s.name} is not usable (${msg(e)}); trying an older one`);
      }
    }
    this.o.log("no snapshot yet: starting from an empty dataset at seq 0");
  }

  /** Runs the schedule until stop(). */
  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.tick();
      } catch (e) {
        this.o.log(`snapshot round failed: ${msg(e)}`);
      }
      await sleep(this.o.tickMs ?? 1000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client.close();
  }

  /** One round: catch up to the tip seen now, then snapshot if due or requested. */
  async tick(): Promise<void> {
    const request = this.pendingRequest();
    const info = await this.client.shardInfo(this.o.shard);
    try {
      await this.catchUp(info.tip, request !== null);
      const due = this.boundarySeq - this.newestSeq >= this.o.everyRecords || (this.bytesSince >= this.o.everyBytes && this.boundarySeq > this.newestSeq);
      if (!due && request === null) return;
      const seq = await this.takeSnapshot();
      if (request !== null) this.answer(request, seq);
    } finally {
      this.endProgress();
    }
  }

  /** Applies the log from readSeq+1 through `tip` (fixed by the caller); `show`: report its progress. */
  private async catchUp(tip: number, show: boolean): Promise<void> {
    const from = this.readSeq;
    while (this.readSeq < tip && !this.stopped) {
      if (show) this.setProgress("catch-up", tip, this.readSeq - from, tip - from);
      const r = await this.client.read(this.o.shard, this.readSeq + 1, READ_COUNT_MAX, READ_BYTES_MAX);
      if (r.kind === "trimmed") throw new Error(`the log is trimmed to ${r.trimPoint} but the snapshotter needs seq ${this.readSeq + 1}`);
      if (r.records.length === 0) return;
      if (r.firstSeq !== this.readSeq + 1) throw new Error(`the log sent records from ${r.firstSeq} to a reader at ${this.readSeq}`);
      for (const rec of r.records.slice(0, tip - this.readSeq)) this.applyRecord(rec);
    }
  }

  private applyRecord(rec: Buffer): void {
    const d = this.reader.push(rec);
    this.readSeq++;
    this.bytesSince += rec.length;
    if (d !== null) {
      if (!d.ok) throw new Error(`record ${this.readSeq}: ${d.error}`);
      if (d.record.kind === "effects") this.engine.apply(d.record.effects);
    }
    if (!this.reader.partial) {
      this.boundarySeq = this.readSeq;
      this.boundaryChecksum = this.reader.checksum;
    }
  }

  /** Writes, verifies, publishes, retains and trims; returns the published seq. */
  private async takeSnapshot(): Promise<number> {
    const seq = this.boundarySeq;
    const name = snapshotName(seq);
    const pending = `${PENDING_PREFIX}${name}`;
    const t0 = Date.now();
    const digest = this.engine.checksum();
    const onWrite = (keys: number, total: number): void => this.setProgress("write", seq, keys, total);
    onWrite(0, this.keyCount());
    await this.store.put(pending, snapshotChunks(this.engine, { seq, logChecksum: this.boundaryChecksum, createdAtMs: Date.now(), digest }, { onProgress: onWrite }));
    const size = (await fs.promises.stat(path.join(this.o.dir, pending))).size;
    let loaded;
    try {
      this.setProgress("verify", seq, 0, size);
      loaded = await readSnapshot(this.store.get(pending), { newEngine: snapshotEngine, onProgress: (n) => this.setProgress("verify", seq, n, size) });
      if (loaded.header.seq !== seq) throw new Error(`it reads back at seq ${loaded.header.seq}, not ${seq}`);
      if (loaded.header.digest !== digest) throw new Error(`its checksum ${loaded.header.digest} differs from the engine's ${digest}`);
      if (!loaded.header.logChecksum.equals(this.boundaryChecksum)) throw new Error("it reads back with another running checksum");
    } catch (e) {
      await this.store.delete(pending);
      throw new Error(`snapshot at seq ${seq} failed verification: ${msg(e)}`);
    }
    await publish(this.store, pending, name);
    this.newestSeq = seq;
    this.bytesSince = 0;
    this.o.log(`published ${name}: ${loaded.keys} keys, ${loaded.bytes} bytes, verified, in ${Date.now() - t0} ms`);
    const dropped = await retainNewest(this.store, this.o.keep);
    if (dropped.length > 0) this.o.log(`retention: deleted ${dropped.join(", ")}`);
    const upto = seq - this.o.trimMargin;
    if (upto > 0) {
      await this.client.trim(this.o.shard, upto);
      this.o.log(`trimmed the log through seq ${upto}`);
    }
    return seq;
  }

  private keyCount(): number {
    let n = 0;
    for (const db of this.engine.dbs) n += db.data.size;
    return n;
  }

  /** Records the round's progress; the file is rewritten at most every PROGRESS_EVERY_MS (and at each phase's end). */
  private setProgress(phase: SnapshotProgress["phase"], seq: number, done: number, total: number): void {
    const prev = this.progress;
    this.progress = { phase, seq, done, total, atMs: Date.now() };
    const now = Date.now();
    const boundary = prev === null || prev.phase !== phase || done >= total;
    if (!boundary && now - this.progressWrittenMs < PROGRESS_EVERY_MS) return;
    this.progressWrittenMs = now;
    try {
      writeAtomically(path.join(this.o.dir, PROGRESS_FILE), `${JSON.stringify(this.progress)}\n`);
    } catch {
      // Progress is for show: a full disk must not fail the snapshot here.
    }
  }

  private endProgress(): void {
    if (this.progress === null) return;
    this.progress = null;
    fs.rmSync(path.join(this.o.dir, PROGRESS_FILE), { force: true });
  }

  private pendingRequest(): string | null {
    try {
      return fs.readFileSync(path.join(this.o.dir, REQUEST_FILE), "utf8").trim();
    } catch {
      return null;
    }
  }

  private answer(request: string, seq: number): void {
    writeAtomically(path.join(this.o.dir, DONE_FILE), `${request} ${seq}\n`);
    fs.rmSync(path.join(this.o.dir, REQUEST_FILE), { force: true });
  }
}

/**
 * A status port speaking just enough RESP for health checks: PING answers
 * PONG, anything else a bulk string of `field:value` lines (INFO style).
 */
export function listenStatus(s: Snapshotter, host: string, port: number): Promise<net.Server> {
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on("error", () => sock.destroy());
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let r = parseReply(buf); r !== null; r = parseReply(buf)) {
        buf = buf.subarray(r.end);
        const cmd = Array.isArray(r.value) && typeof r.value[0] === "string" ? r.value[0].toLowerCase() : "";
        if (cmd === "ping") sock.write("+PONG\r\n");
        else {
          const p = s.progress;
          const progress = p === null ? "idle" : `${p.phase} ${p.done}/${p.total} seq ${p.seq}`;
          const text = `# Snapshotter\r\nmnemo_role:snapshotter\r\nmnemo_snapshot_seq:${s.newestSeq}\r\nmnemo_applied_seq:${s.appliedSeq}\r\nmnemo_snapshot_progress:${progress}\r\n`;
          sock.write(`$${Buffer.byteLength(text)}\r\n${text}\r\n`);
        }
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** Makes a verified pending object visible under its snapshot name. */
async function publish(store: ObjectStore, from: string, to: string): Promise<void> {
  if (store instanceof FsStore) {
    await fs.promises.rename(path.join(store.dir, from), path.join(store.dir, to));
    const h = await fs.promises.open(store.dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    return;
  }
  await store.put(to, store.get(from));
  await store.delete(from);
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/**
 * `mnemo snapshot now`: asks the snapshotter working on `dir` for a snapshot
 * and waits until it says one is published; returns its seq.
 */
export async function requestSnapshot(dir: string, timeoutMs: number, onProgress?: (p: SnapshotProgress) => void): Promise<number> {
  fs.mkdirSync(dir, { recursive: true });
  const id = randomBytes(8).toString("hex");
  writeAtomically(path.join(dir, REQUEST_FILE), `${id}\n`);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (onProgress !== undefined) {
      const p = readProgress(dir);
      if (p !== null) onProgress(p);
    }
    let done = "";
    try {
      done = fs.readFileSync(path.join(dir, DONE_FILE), "utf8");
    } catch {
      // not answered yet
    }
    const [answered, seq] = done.trim().split(" ");
    if (answered === id) return Number(seq);
    await sleep(100);
  }
  throw new Error(`no snapshot was published within ${timeoutMs} ms (is the snapshotter running on ${dir}?)`);
}

/** The snapshotter's progress file, or null when no round is under way (or it is being replaced). */
export function readProgress(dir: string): SnapshotProgress | null {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(dir, PROGRESS_FILE), "utf8")) as Partial<SnapshotProgress>;
    const phase = v.phase === "catch-up" || v.phase === "write" || v.phase === "verify" ? v.phase : null;
    if (phase === null || typeof v.done !== "number" || typeof v.total !== "number" || typeof v.seq !== "number") return null;
    return { phase, seq: v.seq, done: v.done, total: v.total, atMs: typeof v.atMs === "number" ? v.atMs : 0 };
  } catch {
    return null;
  }
}
