// One client connection: bytes in -> requests -> engine -> replies, written
// to the socket once per read (one write per event-loop turn).
import type { Socket } from "node:net";
import { RespDecoder } from "../resp/decoder";
import { encodeReply, type RespWriter } from "../resp/encoder";
import type { Reply } from "../resp/reply";
import type { Session } from "../engine/session";

/** Stop reading from a client whose unread replies pass this many bytes. */
const OUTPUT_BYTES_PAUSE = 64 * 1024 * 1024;

export interface ConnectionHost {
  /** Executes one request; returns the reply to send. */
  handle(conn: Connection, argv: string[]): Reply;
  /** The shared writer replies are encoded into. */
  readonly writer: RespWriter;
  queryBytesMax(): number;
  bulkBytesMax(): number;
  closed(conn: Connection): void;
}

export class Connection {
  readonly decoder: RespDecoder;
  /** Close once the pending replies are written (QUIT, protocol error). */
  closing = false;
  closed = false;
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  private paused = false;

  constructor(
    readonly socket: Socket,
    readonly session: Session,
    private readonly host: ConnectionHost,
  ) {
    this.decoder = new RespDecoder({ bulkBytesMax: host.bulkBytesMax() });
    this.addr = `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`;
    this.laddr = `${socket.localAddress ?? "?"}:${socket.localPort ?? 0}`;
    const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
    this.fd = handle?.fd ?? -1;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => this.destroy());
    socket.on("close", () => this.destroy());
    socket.on("drain", () => this.onDrain());
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.closed) return;
    const decoder = this.decoder;
    decoder.limits.bulkBytesMax = this.host.bulkBytesMax();
    decoder.feed(chunk);
    const w = this.host.writer;
    const session = this.session;
    for (;;) {
      const argv = decoder.next();
      if (argv === null) break;
      const reply = this.host.handle(this, argv);
      if (session.replyMode === "on") {
        w.reply(reply, session.resp);
      } else if (session.replyMode === "skip" && reply.kind !== "none") {
        session.replyMode = "on";
      }
      if (this.closing || this.closed) break;
    }
    if (decoder.error !== null && !this.closing) {
      w.error(`ERR ${decoder.error}`);
      this.closing = true;
    } else if (decoder.buffered > this.host.queryBytesMax()) {
      this.closing = true;
    }
    this.flush();
  }

  /** Writes whatever the shared writer holds for this connection. */
  flush(): void {
    const w = this.host.writer;
    if (w.length > 0 && !this.closed) {
      this.socket.write(w.take());
      if (!this.paused && this.socket.writableLength > OUTPUT_BYTES_PAUSE) {
        this.paused = true;
        this.socket.pause();
      }
    } else {
      w.reset();
    }
    if (this.closing && !this.closed) this.socket.end();
  }

  /** Sends one reply outside the request flow (e.g. a deferred reply). */
  send(reply: Reply): void {
    if (this.closed) return;
    if (this.session.replyMode === "on") this.socket.write(encodeReply(reply, this.session.resp));
    if (this.closing) this.socket.end();
  }

  private onDrain(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.host.closed(this);
  }
}
