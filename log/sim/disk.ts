// A simulated disk holding one append-only file of checksummed frames, the
// way a write-ahead log lays out its records. Writes land in a "page cache"
// until sync(); a crash keeps the synced frames, a random prefix of the
// unsynced ones, and may leave the next one torn (cut short or with a flipped
// byte). Recovery keeps the frames up to the first one that fails its
// checksum, as a real WAL reader must.
import { assert } from "../raft/assert";
import type { Prng } from "./prng";

const HEADER_BYTES = 8;
/** A frame larger than this is corrupt by definition. */
export const FRAME_BYTES_MAX = 64 << 20;

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32(buf: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = (CRC_TABLE[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export function frame(payload: Uint8Array): Buffer {
  assert(payload.length <= FRAME_BYTES_MAX, "frame too large");
  const f = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  f.writeUInt32LE(payload.length, 0);
  f.writeUInt32LE(crc32(payload), 4);
  f.set(payload, HEADER_BYTES);
  return f;
}

/** The payloads of the valid frames at the start of `chunks`, and how many chunks they span. */
export function readFrames(chunks: readonly Buffer[]): { payloads: Buffer[]; validChunks: number } {
  const payloads: Buffer[] = [];
  for (const f of chunks) {
    if (f.length < HEADER_BYTES) break;
    const len = f.readUInt32LE(0);
    if (len > FRAME_BYTES_MAX || f.length !== HEADER_BYTES + len) break;
    const payload = f.subarray(HEADER_BYTES);
    if (crc32(payload) !== f.readUInt32LE(4)) break;
    payloads.push(payload);
  }
  return { payloads, validChunks: payloads.length };
}

export interface CrashReport {
  readonly lostFrames: number;
  readonly torn: boolean;
}

export class SimDisk {
  /** One written chunk per write() (a frame, or a torn remnant after a crash). */
  private chunks: Buffer[] = [];
  private syncedChunks = 0;
  bytesWritten = 0;
  syncs = 0;

  write(payload: Uint8Array): void {
    const f = frame(payload);
    this.chunks.push(f);
    this.bytesWritten += f.length;
  }

  sync(): void {
    this.syncedChunks = this.chunks.length;
    this.syncs++;
  }

  unsyncedFrames(): number {
    return this.chunks.length - this.syncedChunks;
  }

  /** Replaces the whole file, durably and atomically (write a new file, fsync, rename). */
  rewrite(payloads: readonly Uint8Array[]): void {
    this.chunks = payloads.map((p) => frame(p));
    this.syncedChunks = this.chunks.length;
    this.syncs++;
  }

  /** Power loss: unsynced writes survive only as a random prefix, and the first lost one may be torn. */
  crash(rng: Prng): CrashReport {
    const unsynced = this.chunks.length - this.syncedChunks;
    const kept = rng.int(unsynced + 1);
    const lost = this.chunks.slice(this.syncedChunks + kept);
    this.chunks = this.chunks.slice(0, this.syncedChunks + kept);
    const first = lost[0];
    let torn = false;
    if (first !== undefined && rng.chance(0.5)) {
      torn = true;
      const remnant = Buffer.from(first.subarray(0, rng.int(first.length)));
      if (remnant.length > HEADER_BYTES && rng.chance(0.5)) {
        // The full length made it but a sector did not: a flipped byte in the payload.
        const whole = Buffer.from(first);
        const at = HEADER_BYTES + rng.int(whole.length - HEADER_BYTES);
        whole[at] = (whole[at] as number) ^ (1 + rng.int(255));
        this.chunks.push(whole);
      } else {
        this.chunks.push(remnant);
      }
    }
    this.syncedChunks = this.chunks.length;
    return { lostFrames: lost.length, torn };
  }

  /** Reads the valid frames and truncates the file after them, as recovery does. */
  recover(): Buffer[] {
    const { payloads, validChunks } = readFrames(this.chunks);
    this.chunks = this.chunks.slice(0, validChunks);
    this.syncedChunks = this.chunks.length;
    return payloads;
  }
}
