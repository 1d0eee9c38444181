// Length-prefixed frames over a byte stream: [u32 little-endian length][payload].
// The decoder is incremental: feed it whatever a socket read returned (a frame
// split anywhere, or many frames at once) and it hands back whole payloads.
// A length beyond the configured maximum, or anything else wrong, is an error
// value that sticks (the caller closes the connection); nothing here throws on
// any input.

export const FRAME_HEADER_BYTES = 4;
/** Default hard ceiling on one frame's payload. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** The length field is a u32: no maximum may exceed this. */
export const FRAME_BYTES_LIMIT = 0xffffffff;

/** The 4-byte header for a payload of `length` bytes. */
export function frameHeader(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0 || length > FRAME_BYTES_LIMIT) {
    throw new RangeError(`frame length ${length} out of range`);
  }
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32LE(length, 0);
  return h;
}

/** One frame: header + payload in a single buffer. */
export function encodeFrame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Many frames, back to back, in a single buffer. */
export function encodeFrames(payloads: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const p of payloads) total += FRAME_HEADER_BYTES + p.length;
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const p of payloads) {
    out.writeUInt32LE(p.length, pos);
    out.set(p, pos + FRAME_HEADER_BYTES);
    pos += FRAME_HEADER_BYTES + p.length;
  }
  return out;
}

export interface FrameResult {
  /** Whole payloads completed by this push, in order. They may share memory with the pushed chunks. */
  readonly frames: Buffer[];
  /** Set once the stream is broken (e.g. a frame over the maximum); every later push returns it too. */
  readonly error: string | null;
}

export class FrameDecoder {
  readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Payload length of the frame being assembled, once its header is in. */
  private want = -1;
  private failed: string | null = null;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.maxFrameBytes =
      Number.isSafeInteger(maxFrameBytes) && maxFrameBytes >= 0
        ? Math.min(maxFrameBytes, FRAME_BYTES_LIMIT)
        : DEFAULT_MAX_FRAME_BYTES;
  }

  /** The error that broke the stream, if any. */
  get error(): string | null {
    return this.failed;
  }

  /** Bytes held for a frame not yet complete. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): FrameResult {
    const frames: Buffer[] = [];
    if (this.failed !== null) return { frames, error: this.failed };
    if (chunk.length > 0) {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.want < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const header = this.take(FRAME_HEADER_BYTES);
        const len = header.readUInt32LE(0);
        if (len > this.maxFrameBytes) {
          this.failed = `frame of ${len} bytes exceeds the maximum of ${this.maxFrameBytes} bytes`;
          this.chunks = [];
          this.buffered = 0;
          return { frames, error: this.failed };
        }
        this.want = len;
      }
      if (this.buffered < this.want) break;
      frames.push(this.take(this.want));
      this.want = -1;
    }
    return { frames, error: null };
  }

  /** Removes and returns the first n buffered bytes (n <= buffered); no copy when one chunk holds them. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let pos = 0;
    while (pos < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, n - pos);
      c.copy(out, pos, 0, k);
      pos += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
