// One authenticated connection from a log client to a log node's client port
// (the handshake is described in ./client-listener.ts). Requests are pipelined:
// each carries a request id and resolves with its one response; a stream (a
// tail) is a request whose id keeps receiving frames until the connection dies.
import * as net from "node:net";
import { randomBytes } from "node:crypto";
import { CLIENT_NONCE_BYTES, CLIENT_T_AUTH, CLIENT_T_HELLO, CLIENT_T_OK, clientMac, corkedWriter, decodeErrorBody, macEqual, STATUS_OK } from "./client-listener";
import { encodeFrame, FrameDecoder } from "./frame";

export interface LogNodeClientAddress {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

export type Outcome =
  | { readonly kind: "ok"; readonly body: Buffer }
  | { readonly kind: "error"; readonly code: string; readonly leader: string | null; readonly message: string }
  | { readonly kind: "disconnected"; readonly written: boolean; readonly message: string };

/** Responses may be as large as a read of up to 64 MiB of records. */
const RESPONSE_FRAME_BYTES_MAX = 64 * 1024 * 1024 + 64;

export class Conn {
  private readonly pending = new Map<number, (o: Outcome) => void>();
  private readonly streams = new Map<number, (o: Outcome) => void>();
  private nextId = 1;
  private readonly write: (b: Buffer) => void;
  dead = false;

  constructor(
    readonly nodeIndex: number,
    private readonly sock: net.Socket,
    private readonly decoder: FrameDecoder,
  ) {
    this.write = corkedWriter(sock);
    sock.on("data", (chunk: Buffer) => this.onData(chunk));
    sock.on("close", () => this.kill("connection closed"));
    sock.on("error", (e) => this.kill(e.message));
  }

  get inFlight(): number {
    return this.pending.size + this.streams.size;
  }

  request(op: number, payload: Uint8Array): Promise<Outcome> {
    if (this.dead) return Promise.resolve({ kind: "disconnected", written: false, message: "connection closed" });
    const id = this.send(op, payload);
    return new Promise<Outcome>((resolve) => this.pending.set(id, resolve));
  }

  /** Sends a request whose every response frame goes to `onFrame`, until the connection dies (then one "disconnected"). */
  stream(op: number, payload: Uint8Array, onFrame: (o: Outcome) => void): void {
    if (this.dead) {
      onFrame({ kind: "disconnected", written: false, message: "connection closed" });
      return;
    }
    this.streams.set(this.send(op, payload), onFrame);
  }

  kill(why: string): void {
    if (!this.dead) {
      this.dead = true;
      this.sock.destroy();
    }
    const all = [...this.pending.values(), ...this.streams.values()];
    this.pending.clear();
    this.streams.clear();
    for (const cb of all) cb({ kind: "disconnected", written: true, message: why });
  }

  private send(op: number, payload: Uint8Array): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    const frame = Buffer.allocUnsafe(4 + 5 + payload.length);
    frame.writeUInt32LE(5 + payload.length, 0);
    frame.writeUInt32BE(id, 4);
    frame[8] = op;
    frame.set(payload, 9);
    this.write(frame);
    return id;
  }

  private onData(chunk: Buffer): void {
    const { frames, error } = this.decoder.push(chunk);
    if (error !== null) return this.kill(error);
    for (const f of frames) {
      if (this.dead) return;
      if (f.length < 5) return this.kill("short response frame");
      const id = f.readUInt32BE(0);
      const stream = this.streams.get(id);
      const cb = stream ?? this.pending.get(id);
      if (cb === undefined) continue;
      if (stream === undefined) this.pending.delete(id);
      const body = Buffer.from(f.subarray(5));
      if (f[4] === STATUS_OK) cb({ kind: "ok", body });
      else {
        const d = decodeErrorBody(body);
        cb(d.ok ? { kind: "error", ...d.value } : { kind: "error", code: "protocol", leader: null, message: d.error.message });
      }
    }
  }
}

/** Connects to `addr` and runs the handshake; rejects on failure or after timeoutMs. */
export function connect(idx: number, addr: LogNodeClientAddress, secret: string | Uint8Array, timeoutMs: number): Promise<Conn> {
  return new Promise<Conn>((resolve, reject) => {
    const sock = net.connect({ host: addr.host, port: addr.port });
    sock.setNoDelay(true);
    const decoder = new FrameDecoder(RESPONSE_FRAME_BYTES_MAX);
    let nonceC: Buffer | null = null;
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.removeListener("data", onData);
      if (err !== null) {
        sock.destroy();
        reject(err);
      } else resolve(new Conn(idx, sock, decoder));
    };
    const timer = setTimeout(() => finish(new Error(`connecting to ${addr.id} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      const { frames, error } = decoder.push(chunk);
      if (error !== null) return finish(new Error(`${addr.id}: ${error}`));
      for (const f of frames) {
        if (nonceC === null) {
          if (f.length !== 1 + CLIENT_NONCE_BYTES || f[0] !== CLIENT_T_HELLO) return finish(new Error(`${addr.id}: malformed HELLO`));
          nonceC = randomBytes(CLIENT_NONCE_BYTES);
          sock.write(encodeFrame(Buffer.concat([Buffer.from([CLIENT_T_AUTH]), clientMac(secret, "log-client", f.subarray(1)), nonceC])));
        } else {
          if (f.length !== 33 || f[0] !== CLIENT_T_OK || !macEqual(f.subarray(1), clientMac(secret, "log-server", nonceC))) {
            return finish(new Error(`${addr.id}: the node failed authentication`));
          }
          // Frames after OK cannot arrive before the first request is sent.
          return finish(null);
        }
      }
    };
    sock.on("data", onData);
    sock.on("error", (e) => finish(new Error(`${addr.id}: ${e.message}`)));
    sock.on("close", () => finish(new Error(`${addr.id}: connection closed during the handshake`)));
  });
}
