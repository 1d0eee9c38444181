// A bare TCP client for tests that need exact bytes: write anything, read
// until a predicate holds on what arrived, notice when the server closes.
import { connect, type Socket } from "node:net";

export class RawClient {
  private data: Buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.data = this.data.length === 0 ? d : Buffer.concat([this.data, d]);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  static connect(port: number, timeoutMs = 5000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, "127.0.0.1");
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${port} timed out`));
      }, timeoutMs);
      s.once("connect", () => {
        clearTimeout(timer);
        resolve(new RawClient(s));
      });
      s.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes);
  }

  /** Resolves with everything received once `done` holds (or the socket closed); rejects on timeout. */
  async readUntil(done: (received: Buffer) => boolean, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.data) && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms; received ${JSON.stringify(this.data.subarray(0, 300).toString("latin1"))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.data;
  }

  /** Reads exactly `n` bytes (or fewer if the server closed) and consumes them. */
  async readBytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    await this.readUntil((d) => d.length >= n, timeoutMs);
    const out = this.data.subarray(0, n);
    this.data = this.data.subarray(n);
    return out;
  }

  /** Waits for the server to close the connection; returns what arrived before. */
  async readToClose(timeoutMs = 5000): Promise<Buffer> {
    return this.readUntil(() => false, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Encodes a command as a RESP multibulk request. */
export function request(argv: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = typeof a === "string" ? Buffer.from(a, "latin1") : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}
