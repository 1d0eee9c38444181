// The client side of OP_TAIL (see ./tail-server.ts): one stream of a shard's
// committed records, delivered exactly once, in seq order, without gaps.
//
// The stream has its own connection to one log node (any node: followers
// serve tails from their applied state too). When that connection dies, the
// node stops, or it goes silent for longer than idleTimeoutMs (no records and
// no heartbeat: stopped, or cut off from the leader), the stream connects to
// the next node and asks again from the next seq it has not delivered.
// Records the new node sends below that seq are skipped; a frame that starts
// beyond it would be a gap, which no correct node sends, so the stream drops
// that node and moves on.
import { assert } from "../state/assert";
import { isShardId, type ShardId } from "../state/types";
import { decodeReadResult, encodeTailRequest, OP_TAIL } from "./client-listener";
import { type Conn, connect, type LogNodeClientAddress, type Outcome } from "./client-conn";

export interface TailHandler {
  /** Records firstSeq, firstSeq+1, ...: never empty, never repeated, never a gap. tip: the node's applied tip. */
  onRecords(firstSeq: number, records: readonly Buffer[], tip: number): void;
  /** The stream's next seq is below the shard's trim point: the stream has ended. */
  onTrimmed?(trimPoint: number, tip: number): void;
  /** The stream ended on an error it cannot retry (a bad request, a handler that threw). */
  onError?(err: Error): void;
}

export interface TailOptions {
  readonly connectTimeoutMs: number;
  /** A node that sends nothing for this long is given up for the next one. */
  readonly idleTimeoutMs: number;
  /** Index of the node to try first. */
  readonly firstNode: number;
}

const BACKOFF_MIN_MS = 20;
const BACKOFF_MAX_MS = 1000;

export class TailStream {
  private next: number;
  private nodeIdx: number;
  private conn: Conn | null = null;
  private closed = false;
  private lastFrameMs = 0;
  private backoffMs = BACKOFF_MIN_MS;
  private readonly idleTimer: NodeJS.Timeout;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Connections made (the first included): a test and status hook. */
  connects = 0;

  constructor(
    private readonly nodes: readonly LogNodeClientAddress[],
    private readonly secret: string | Uint8Array,
    private readonly shard: ShardId,
    fromSeq: number,
    private readonly h: TailHandler,
    private readonly opts: TailOptions,
  ) {
    assert(nodes.length > 0, "a tail needs a node");
    if (!isShardId(shard)) throw new RangeError(`bad shard id ${JSON.stringify(shard)}`);
    if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new RangeError(`tail fromSeq must be an integer >= 1, got ${fromSeq}`);
    this.next = fromSeq;
    this.nodeIdx = opts.firstNode % nodes.length;
    this.idleTimer = setInterval(() => this.checkIdle(), Math.max(10, Math.floor(opts.idleTimeoutMs / 4)));
    this.idleTimer.unref();
    this.open();
  }

  /** The seq of the next record the handler will get. */
  get nextSeq(): number {
    return this.next;
  }

  /** The node the stream reads from now. */
  get currentNode(): string {
    return (this.nodes[this.nodeIdx] as LogNodeClientAddress).id;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.idleTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const c = this.conn;
    this.conn = null;
    c?.kill("tail closed");
  }

  private open(): void {
    if (this.closed) return;
    const idx = this.nodeIdx;
    this.connects++;
    this.lastFrameMs = Date.now();
    connect(idx, this.nodes[idx] as LogNodeClientAddress, this.secret, this.opts.connectTimeoutMs).then(
      (c) => {
        if (this.closed) return c.kill("tail closed");
        this.conn = c;
        this.lastFrameMs = Date.now();
        c.stream(OP_TAIL, encodeTailRequest(this.shard, this.next), (o) => {
          if (this.conn === c) this.onFrame(c, o);
        });
      },
      () => this.moveOn(null),
    );
  }

  private onFrame(c: Conn, o: Outcome): void {
    switch (o.kind) {
      case "disconnected":
        return this.moveOn(c);
      case "error":
        if (o.code === "bad-request") return this.fail(new Error(`tail of shard ${String(this.shard)}: ${o.message}`));
        return this.moveOn(c);
      case "ok":
        return this.onBody(c, o.body);
    }
  }

  private onBody(c: Conn, body: Buffer): void {
    this.lastFrameMs = Date.now();
    const d = decodeReadResult(body);
    if (!d.ok) return this.moveOn(c);
    const r = d.value;
    if (r.kind === "trimmed") {
      this.close();
      return this.call(() => this.h.onTrimmed?.(r.trimPoint, r.tip));
    }
    if (r.firstSeq > this.next) return this.moveOn(c);
    this.backoffMs = BACKOFF_MIN_MS;
    const skip = this.next - r.firstSeq;
    if (skip >= r.records.length) return;
    const fresh = skip === 0 ? r.records : r.records.slice(skip);
    const first = this.next;
    this.next += fresh.length;
    this.call(() => this.h.onRecords(first, fresh, r.tip));
  }

  /** Runs a handler callback; one that throws ends the stream. */
  private call(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.close();
    try {
      this.h.onError?.(err);
    } catch {
      // Nothing more to tell.
    }
  }

  private checkIdle(): void {
    const c = this.conn;
    if (this.closed || c === null) return;
    if (Date.now() - this.lastFrameMs > this.opts.idleTimeoutMs) this.moveOn(c);
  }

  /** Drops the current node and tries the next one after a backoff. */
  private moveOn(from: Conn | null): void {
    if (this.closed || this.retryTimer !== null) return;
    if (from !== null && from !== this.conn) return;
    this.conn = null;
    from?.kill("moving to another node");
    this.nodeIdx = (this.nodeIdx + 1) % this.nodes.length;
    const wait = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, wait);
  }
}
