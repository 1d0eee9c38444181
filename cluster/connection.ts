// One client connection: bytes in -> requests -> engine -> replies. Replies of
// one processing pass are encoded into the server's shared writer and written
// to the socket once.
//
// Requests that are decoded but not yet executed stay in the decoder (and, for
// one request the host asked to hold, in `held`). A connection can be *blocked*
// (CLIENT PAUSE, later BLPOP and friends): it then executes nothing until it is
// unblocked, and resumes in order. Resuming is always scheduled by the host on a
// later turn, never run re-entrantly, because the writer is shared.
import type { Socket } from "node:net";
import { RespDecoder } from "../resp/decoder";
import { encodeReply, type RespWriter } from "../resp/encoder";
import type { Reply } from "../resp/reply";
import type { Session } from "../engine/session";
import { SocketOutput } from "./direct-write";

/** Stop reading from a client whose unread replies pass this many bytes. */
const OUTPUT_BYTES_PAUSE = 64 * 1024 * 1024;
/** Requests executed in one pass before yielding to other clients. */
const REQUESTS_PER_PASS_MAX = 10_000;

/** Returned by `ConnectionHost.handle`: keep this request and run it again when unblocked. */
export const HOLD: unique symbol = Symbol("hold");
export type Hold = typeof HOLD;

/**
 * Why a connection waits. `kind` shows in CLIENT LIST flags and INFO
 * blocked_clients; `cancel` is called when the wait ends without its event
 * (CLIENT UNBLOCK, disconnect) and may return the reply to send.
 */
export interface Blocker {
  readonly kind: "pause" | "command";
  /** Unix ms after which the host should call `timedOut`; 0 = no timeout. */
  readonly deadlineMs?: number;
  cancel?(reason: "timeout" | "error" | "disconnect"): Reply | null;
}

export interface ConnectionHost {
  /** Executes one request; returns the reply to send, or HOLD after blocking `conn`. */
  handle(conn: Connection, argv: string[]): Reply | Hold;
  /** The shared writer replies are encoded into. */
  readonly writer: RespWriter;
  queryBytesMax(): number;
  bulkBytesMax(): number;
  /** Asks the host to call `conn.process()` on a later turn. */
  schedule(conn: Connection): void;
  /** A protocol error or a limit closed the client: log it. */
  clientError(conn: Connection, message: string): void;
  closed(conn: Connection): void;
  /** The requests about to run arrived at `nowMs` (Engine.beginTurn), until endTurn. */
  beginTurn(nowMs: number): void;
  endTurn(): void;
  /** Bytes read from and written to clients (INFO total_net_*). */
  countNet(inBytes: number, outBytes: number): void;
  /**
   * The log seq the reply just produced for `conn` (by handle, or a blocked
   * command's or pushed reply when `pushed`) must wait for; 0: it may go now.
   * Absent on a server without a log.
   */
  replyWaitSeq?(conn: Connection, pushed: boolean): number;
  /** `conn` now holds replies waiting for the log. */
  holding?(conn: Connection): void;
}

/** A reply waiting for the log to commit `seq` (and for the replies before it). */
interface HeldReply {
  readonly seq: number;
  readonly bytes: Buffer;
}

export class Connection {
  readonly decoder: RespDecoder;
  /** Close once the pending replies are written (QUIT, protocol error, CLIENT KILL of self). */
  closing = false;
  closed = false;
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  /** What this connection waits for, or null when it runs requests. */
  blocked: Blocker | null = null;
  /** A request the host held (CLIENT PAUSE): it runs first when unblocked. */
  private held: string[] | null = null;
  private processing = false;
  private outputPaused = false;
  /** Bytes of the request being executed (Redis counts it in qbuf until it finishes). */
  private requestBytes = 0;
  /** Bytes of the largest query buffer seen since the last cron sample. */
  queryPeakBytes = 0;
  /** Replies waiting for the log, in this connection's order (durable primary). */
  private waiting: HeldReply[] = [];
  private waitingHead = 0;
  /**
   * Replies held during the current pass stay in the shared writer, in runs
   * that wait for one seq each: [seq, writer offset, seq, offset, ...]. The
   * pass's flush copies each run out as one held reply.
   */
  private readonly passRuns: number[] = [];
  /** Writes to `socket`, straight to its handle where possible. */
  private readonly out: SocketOutput;

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
    this.out = new SocketOutput(
      socket,
      () => this.onDrain(),
      () => this.destroy(),
    );
    socket.setNoDelay(true);
    socket.on("error", () => this.destroy());
    socket.on("close", () => this.destroy());
    socket.on("drain", () => this.onDrain());
  }

  /**
   * Bytes read from the socket into `buf[0, nread)`, a buffer the server
   * reuses for every read of every client (the socket's `onread` option):
   * the decoder reads the requests straight out of it and keeps a copy of
   * only what is left unconsumed.
   */
  onRead(nread: number, buf: Buffer): void {
    if (this.closing || this.closed) return;
    this.host.countNet(nread, 0);
    // Any traffic counts as activity for the idle timeout, as in Redis.
    const now = Date.now();
    this.session.lastInteractionMs = now;
    const decoder = this.decoder;
    decoder.limits.bulkBytesMax = this.host.bulkBytesMax();
    decoder.feed(buf.subarray(0, nread), true);
    this.host.beginTurn(now);
    try {
      const buffered = decoder.buffered;
      if (buffered > this.queryPeakBytes) this.queryPeakBytes = buffered;
      if (buffered > this.host.queryBytesMax()) {
        // Redis closes such a client without a reply (client-query-buffer-limit).
        this.host.clientError(this, `closing client that reached max query buffer length (qbuf=${buffered})`);
        this.destroy();
        return;
      }
      this.process();
    } finally {
      this.host.endTurn();
      decoder.detach();
    }
  }

  /**
   * Runs the requests already received, in order, until they run out, the
   * connection blocks or closes; then writes the replies.
   */
  process(): void {
    if (this.processing || this.closed) return;
    this.processing = true;
    try {
      this.runRequests();
    } finally {
      this.processing = false;
    }
    this.flush();
  }

  private runRequests(): void {
    const decoder = this.decoder;
    const w = this.host.writer;
    const session = this.session;
    for (let n = 0; n < REQUESTS_PER_PASS_MAX; n++) {
      if (this.closing || this.closed || this.blocked !== null) return;
      let argv = this.held;
      this.held = null;
      const before = decoder.buffered;
      if (argv === null) argv = decoder.next();
      this.requestBytes = Math.max(0, before - decoder.buffered);
      if (argv === null) {
        if (decoder.error !== null) this.protocolError(decoder.error);
        return;
      }
      const reply = this.host.handle(this, argv);
      this.requestBytes = 0;
      if (reply === HOLD) {
        this.held = argv;
        return;
      }
      if (session.replyMode === "on") {
        const seq = this.host.replyWaitSeq === undefined ? 0 : this.host.replyWaitSeq(this, false);
        if (seq > 0 || this.passRuns.length > 0 || this.waitingHead < this.waiting.length) this.hold(reply, seq);
        else w.reply(reply, session.resp);
      } else if (session.replyMode === "skip" && reply.kind !== "none") {
        session.replyMode = "on";
      }
    }
    // Many pipelined requests: let other clients run, then continue.
    this.host.schedule(this);
  }

  private protocolError(message: string): void {
    this.host.writer.error(`ERR ${message}`);
    this.host.clientError(this, message);
    this.closing = true;
  }

  /** Writes whatever the shared writer holds (this connection's replies). */
  flush(): void {
    const w = this.host.writer;
    const ready = this.passRuns.length > 0 ? this.keepPassRuns() : w.length;
    if (ready > 0 && !this.closed) {
      this.host.countNet(0, ready);
      // Usually the kernel takes the bytes at once and nothing keeps them:
      // write straight from the shared buffer. If some stayed queued, the
      // socket now owns that buffer and the writer moves to a new one.
      if (this.out.write(ready === w.length ? w.peek() : w.peek().subarray(0, ready))) w.reset();
      else w.disown();
      if (!this.outputPaused && this.out.queuedBytes > OUTPUT_BYTES_PAUSE) {
        this.outputPaused = true;
        this.socket.pause();
      }
    } else {
      w.reset();
    }
    // QUIT behind replies still waiting for the log closes once they are out.
    if (this.closing && !this.closed && this.heldReplies === 0) this.closeAfterWrite();
  }

  /**
   * Ends the socket once the replies are written, then destroys it so the
   * peer's further writes fail (as Redis's close() does) instead of piling up.
   */
  private closeAfterWrite(): void {
    const socket = this.socket;
    if (socket.writableEnded) return;
    socket.end(() => this.destroy());
  }

  /**
   * Sends a reply produced outside this connection's own request flow (a
   * blocked command's reply, a MONITOR line, later pub/sub messages): behind
   * this connection's pending replies when it is the one executing, straight
   * to the socket otherwise.
   */
  send(reply: Reply): void {
    if (this.closed) return;
    const session = this.session;
    if (session.replyMode === "on" || reply.kind === "push") {
      const seq = this.host.replyWaitSeq === undefined ? 0 : this.host.replyWaitSeq(this, true);
      if (seq > 0 || this.waitingHead < this.waiting.length) {
        this.hold(reply, seq);
      } else if (this.processing) {
        this.host.writer.reply(reply, session.resp);
      } else {
        const bytes = encodeReply(reply, session.resp);
        this.host.countNet(0, bytes.length);
        this.out.write(bytes);
      }
    } else if (session.replyMode === "skip") {
      session.replyMode = "on";
    }
    if (this.closing && !this.processing && this.heldReplies === 0) this.closeAfterWrite();
  }

  /** Queues a reply until the log commits `seq` (and every reply before it is released). */
  private hold(reply: Reply, seq: number): void {
    const runs = this.passRuns;
    let after = runs.length > 0 ? (runs[runs.length - 2] as number) : 0;
    if (after === 0 && this.waitingHead < this.waiting.length) after = (this.waiting[this.waiting.length - 1] as HeldReply).seq;
    const s = Math.max(seq, after);
    if (this.processing) {
      // Encoded with the pass's other replies; a new run starts where the seq grows.
      const w = this.host.writer;
      if (runs.length === 0 || s !== after) runs.push(s, w.length);
      w.reply(reply, this.session.resp);
      return;
    }
    this.waiting.push({ seq: s, bytes: encodeReply(reply, this.session.resp) });
    this.host.holding?.(this);
  }

  /**
   * Moves the pass's held runs out of the shared writer into `waiting`;
   * returns how many bytes before them may be written now.
   */
  private keepPassRuns(): number {
    const runs = this.passRuns;
    const all = this.host.writer.peek();
    for (let i = 0; i < runs.length; i += 2) {
      const start = runs[i + 1] as number;
      const end = i + 3 < runs.length ? (runs[i + 3] as number) : all.length;
      this.waiting.push({ seq: runs[i] as number, bytes: Buffer.from(all.subarray(start, end)) });
    }
    const ready = runs[1] as number;
    runs.length = 0;
    this.host.holding?.(this);
    return ready;
  }

  /** Replies waiting for the log. */
  get heldReplies(): number {
    return this.waiting.length - this.waitingHead;
  }

  /** Writes the held replies whose seq is committed; true when none is left. */
  release(committedSeq: number): boolean {
    const q = this.waiting;
    let i = this.waitingHead;
    const out: Buffer[] = [];
    while (i < q.length && (q[i] as HeldReply).seq <= committedSeq) out.push((q[i++] as HeldReply).bytes);
    this.waitingHead = i;
    if (i === q.length) {
      this.waiting = [];
      this.waitingHead = 0;
    }
    if (out.length > 0 && !this.closed) {
      const bytes = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
      this.host.countNet(0, bytes.length);
      this.out.write(bytes);
    }
    const empty = this.waitingHead === this.waiting.length;
    if (empty && this.closing && !this.closed && !this.processing) this.closeAfterWrite();
    return empty;
  }

  /** The log will never commit the held replies: answer each with `message`, then close. */
  failHeld(message: string): void {
    const n = this.heldReplies;
    this.waiting = [];
    this.waitingHead = 0;
    if (!this.closed && n > 0) {
      const one = encodeReply({ kind: "error", message }, this.session.resp);
      const bytes = Buffer.concat(new Array<Buffer>(n).fill(one));
      this.host.countNet(0, bytes.length);
      this.out.write(bytes);
    }
  }

  /** Stops executing requests until `unblock`. */
  block(blocker: Blocker): void {
    this.blocked = blocker;
  }

  /** Sends `reply` (if any) for the blocked request and resumes the pending ones on a later turn. */
  unblock(reply?: Reply): void {
    if (this.blocked === null) return;
    this.blocked = null;
    if (reply !== undefined) this.send(reply);
    this.host.schedule(this);
  }

  /** Marks the connection to close after its pending replies (CLIENT KILL of itself, QUIT). */
  closeSoon(): void {
    this.closing = true;
    if (!this.processing) this.flush();
  }

  /** Bytes received and not yet executed (CLIENT LIST qbuf). */
  get queryBytes(): number {
    return this.decoder.buffered + this.requestBytes;
  }

  /** Bytes written to the socket that the kernel has not taken yet (CLIENT LIST omem). */
  get outputBytes(): number {
    return this.out.queuedBytes;
  }

  private onDrain(): void {
    if (this.outputPaused && this.out.queuedBytes <= OUTPUT_BYTES_PAUSE) {
      this.outputPaused = false;
      this.socket.resume();
    }
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    const b = this.blocked;
    this.blocked = null;
    if (b !== null) b.cancel?.("disconnect");
    this.socket.destroy();
    this.host.closed(this);
  }
}
