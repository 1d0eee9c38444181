// Where snapshots live: a narrow object-store interface (put a stream of
// chunks, get one back, list, delete) that S3 or any blob store can satisfy,
// and its filesystem implementation. An object is visible under its name only
// once it is complete and durable: put writes a temporary in the same
// directory, fsyncs it, renames it, then fsyncs the directory. A crash at any
// point leaves either the old listing or the new one, never a partial object.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface ObjectStore {
  /** Stores the chunks under `name`, replacing any object of that name, atomically. */
  put(name: string, chunks: Chunks): Promise<void>;
  /** The object's bytes as a stream of chunks; fails if there is no such object. */
  get(name: string): AsyncIterable<Buffer>;
  /** Names of the complete objects, sorted. */
  list(): Promise<string[]>;
  /** Removes the object; no error if it is already gone. */
  delete(name: string): Promise<void>;
}

export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}

// ---------------------------------------------------------------------------
// Snapshot names: the seq they cover, zero-padded so names sort like seqs.

const NAME_PREFIX = "snapshot-";
const NAME_SUFFIX = ".mnsnap";
const SEQ_DIGITS = 16;
const NAME_RE = /^snapshot-(\d{16})\.mnsnap$/;

export function snapshotName(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new StoreError(`bad snapshot seq ${seq}`);
  return `${NAME_PREFIX}${String(seq).padStart(SEQ_DIGITS, "0")}${NAME_SUFFIX}`;
}

/** The seq a snapshot name carries, or null for any other object name. */
export function seqOfName(name: string): number | null {
  const m = NAME_RE.exec(name);
  return m === null || m[1] === undefined ? null : Number(m[1]);
}

/** Snapshots in the store, newest (highest seq) first. */
export async function listSnapshots(store: ObjectStore): Promise<{ name: string; seq: number }[]> {
  const out: { name: string; seq: number }[] = [];
  for (const name of await store.list()) {
    const seq = seqOfName(name);
    if (seq !== null) out.push({ name, seq });
  }
  return out.sort((a, b) => b.seq - a.seq);
}

export async function newestSnapshot(store: ObjectStore): Promise<{ name: string; seq: number } | null> {
  return (await listSnapshots(store))[0] ?? null;
}

/** Deletes all but the `keep` newest snapshots (other objects are left alone); returns the deleted names. */
export async function retainNewest(store: ObjectStore, keep: number): Promise<string[]> {
  if (!Number.isSafeInteger(keep) || keep < 1) throw new StoreError(`retention must keep at least 1 snapshot, not ${keep}`);
  const doomed = (await listSnapshots(store)).slice(keep).map((s) => s.name);
  for (const name of doomed) await store.delete(name);
  return doomed;
}

// ---------------------------------------------------------------------------
// Filesystem store.

/** Told about every chunk FsStore.get reads: object name, bytes read so far, object size. */
export type StoreReadListener = (name: string, bytesRead: number, totalBytes: number) => void;

let readListener: StoreReadListener | null = null;

/**
 * Sets the process-wide listener for FsStore reads (null removes it): a
 * durable server shows restore progress this way without its restore code
 * knowing about progress.
 */
export function setStoreReadListener(fn: StoreReadListener | null): void {
  readListener = fn;
}

/** Temporaries start with this; list() never shows them and sweepTemporaries() removes them. */
export const TEMP_PREFIX = ".tmp-";
const READ_CHUNK_BYTES = 1 << 20;
const NAME_BYTES_MAX = 200;

function checkName(name: string): void {
  const ok = name.length > 0 && name.length <= NAME_BYTES_MAX && /^[A-Za-z0-9._-]+$/.test(name) && !name.startsWith(".");
  if (!ok) throw new StoreError(`bad object name ${JSON.stringify(name)}`);
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.promises.open(dir, "r");
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export class FsStore implements ObjectStore {
  constructor(readonly dir: string) {}

  /** Creates the directory if needed. */
  async open(): Promise<this> {
    await fs.promises.mkdir(this.dir, { recursive: true });
    return this;
  }

  async put(name: string, chunks: Chunks): Promise<void> {
    checkName(name);
    const tmp = path.join(this.dir, `${TEMP_PREFIX}${name}.${process.pid}.${randomBytes(4).toString("hex")}`);
    const h = await fs.promises.open(tmp, "wx");
    try {
      for await (const c of chunks) await h.write(c);
      await h.sync();
    } catch (e) {
      await h.close();
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
    await h.close();
    await fs.promises.rename(tmp, path.join(this.dir, name));
    await fsyncDir(this.dir);
  }

  async *get(name: string): AsyncGenerator<Buffer> {
    checkName(name);
    let h: fs.promises.FileHandle;
    try {
      h = await fs.promises.open(path.join(this.dir, name), "r");
    } catch (e) {
      if (e instanceof Error && "code" in e && e.code === "ENOENT") throw new StoreError(`no object named ${JSON.stringify(name)} in ${this.dir}`);
      throw e;
    }
    try {
      const listener = readListener;
      const total = listener === null ? 0 : (await h.stat()).size;
      let read = 0;
      for (;;) {
        // A fresh buffer per chunk: the consumer may keep it.
        const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
        const { bytesRead } = await h.read(buf, 0, READ_CHUNK_BYTES, null);
        if (bytesRead === 0) return;
        read += bytesRead;
        yield buf.subarray(0, bytesRead);
        // After the consumer has taken (and, for a restore, loaded) the chunk.
        listener?.(name, read, total);
      }
    } finally {
      await h.close();
    }
  }

  async list(): Promise<string[]> {
    const names = await fs.promises.readdir(this.dir, { withFileTypes: true });
    return names
      .filter((d) => d.isFile() && !d.name.startsWith("."))
      .map((d) => d.name)
      .sort();
  }

  async delete(name: string): Promise<void> {
    checkName(name);
    await fs.promises.rm(path.join(this.dir, name), { force: true });
    await fsyncDir(this.dir);
  }

  /** Removes temporaries left by writers that crashed; only call when no put is running. */
  async sweepTemporaries(): Promise<string[]> {
    const names = (await fs.promises.readdir(this.dir)).filter((n) => n.startsWith(TEMP_PREFIX));
    for (const n of names) await fs.promises.rm(path.join(this.dir, n), { force: true });
    return names;
  }
}
