// The log service's client: talks to the log nodes' client ports
// (log/io/client-listener.ts), finds the leader (trying nodes in turn and
// following "not-leader" hints), keeps several requests in flight on one
// connection (they reach the Raft log in the order they were issued), and
// retries on not-leader, unknown outcomes and lost connections until a
// per-request deadline.
//
// Retrying never double-applies an append: appends are conditional on
// expectedSeq, so a retry of one that already landed fails with a conflict
// carrying the tip. When an earlier attempt's outcome was unknown, that
// conflict is reported as { kind: "conflictAfterRetry", tip }: the records are
// in iff this client is the shard's only writer and tip >= expectedSeq + n
// (inRange tells which); a plain { kind: "conflict" } means none of the
// attempts applied.
import { decodeReply, encodeCommand } from "./codec";
import type { AppendResult, Command, LeaseView, RenewResult, Reply, ShardId, TakeLeaseResult, TrimResult } from "./state/types";
import { isShardId } from "./state/types";
import {
  decodeReadResult,
  encodeReadRequest,
  encodeShardInfoRequest,
  OP_PROPOSE,
  OP_READ,
  OP_SHARD_INFO,
  OP_STATUS,
  type WireReadResult,
} from "./io/client-listener";
import { type Conn, connect, type LogNodeClientAddress, type Outcome } from "./io/client-conn";
import { type TailHandler, TailStream } from "./io/tail-client";

export type { LogNodeClientAddress } from "./io/client-conn";
export type { TailHandler } from "./io/tail-client";

export interface LogClientOptions {
  /** Bound on one call, retries included (default 10 000 ms). */
  readonly requestTimeoutMs?: number;
  /** Bound on connecting and authenticating to one node (default 2 000 ms). */
  readonly connectTimeoutMs?: number;
  /** A tail whose node sends nothing (not even a heartbeat) for this long moves to another node (default 2 000 ms). */
  readonly tailIdleTimeoutMs?: number;
}

export type ClientAppendResult = AppendResult | { readonly kind: "conflictAfterRetry"; readonly tip: number; readonly recordsIn: boolean };

/** A shard as a log node reports it (see LogNode.shardInfo). */
export interface ShardInfoResult {
  readonly tip: number;
  readonly trimPoint: number;
  readonly lease: LeaseView | null;
  readonly leaseRemainingMs: number;
}

export class LogClientError extends Error {
  override name = "LogClientError";
  constructor(
    readonly code: "timeout" | "bad-request" | "unavailable" | "protocol" | "closed",
    message: string,
    /** True when some attempt may have taken effect. */
    readonly uncertain = false,
  ) {
    super(message);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class LogClient {
  private readonly nodes: readonly LogNodeClientAddress[];
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly tailIdleTimeoutMs: number;
  private readonly tails = new Set<TailStream>();
  private target = 0;
  private conn: Promise<Conn> | null = null;
  private readonly old = new Set<Conn>();
  private closed = false;
  /** Attempts after the first, over all calls (not-leader, unknown outcome, lost connection). */
  retries = 0;

  constructor(
    nodes: readonly LogNodeClientAddress[],
    private readonly secret: string | Uint8Array,
    opts: LogClientOptions = {},
  ) {
    if (nodes.length === 0) throw new Error("LogClient needs at least one node address");
    this.nodes = [...nodes];
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    this.tailIdleTimeoutMs = opts.tailIdleTimeoutMs ?? 2_000;
  }

  /** The id of the node the client currently sends to. */
  get currentNode(): string {
    return (this.nodes[this.target] as LogNodeClientAddress).id;
  }

  async append(shard: ShardId, records: readonly Buffer[], o: { expectedSeq: number; leaseId: number }): Promise<ClientAppendResult> {
    const { reply, uncertain } = await this.propose({ kind: "append", shard, records, expectedSeq: o.expectedSeq, leaseId: o.leaseId });
    const r = (reply as Extract<Reply, { op: "append" }>).result;
    if (r.kind === "conflict" && uncertain) return { kind: "conflictAfterRetry", tip: r.tip, recordsIn: r.tip >= o.expectedSeq + records.length };
    return r;
  }

  async tryTakeLease(shard: ShardId, nodeId: string, expectedSeq: number, durationMs: number): Promise<TakeLeaseResult> {
    const { reply } = await this.propose({ kind: "tryTakeLease", shard, nodeId, expectedSeq, durationMs });
    return (reply as Extract<Reply, { op: "tryTakeLease" }>).result;
  }

  async renewLease(shard: ShardId, leaseId: number): Promise<RenewResult> {
    const { reply } = await this.propose({ kind: "renewLease", shard, leaseId });
    return (reply as Extract<Reply, { op: "renewLease" }>).result;
  }

  async trim(shard: ShardId, uptoSeq: number): Promise<TrimResult> {
    const { reply } = await this.propose({ kind: "trim", shard, uptoSeq });
    return (reply as Extract<Reply, { op: "trim" }>).result;
  }

  /** Reads from the node the client currently talks to (normally the leader). */
  async read(shard: ShardId, fromSeq: number, countMax = 1024, bytesMax = 4 * 1024 * 1024): Promise<WireReadResult> {
    const { body } = await this.call(OP_READ, encodeReadRequest(shard, fromSeq, countMax, bytesMax), "read");
    const d = decodeReadResult(body);
    if (!d.ok) throw new LogClientError("protocol", d.error.message);
    return d.value;
  }

  /**
   * Streams a shard's committed records from fromSeq (>= 1) on, from any log
   * node, moving to another node when that one dies, stops or goes silent:
   * every record exactly once, in seq order, without gaps. If fromSeq (or the
   * stream, later) is below the trim point, onTrimmed is called and the stream
   * ends. Runs until close() (or LogClient.close()).
   */
  tail(shard: ShardId, fromSeq: number, h: TailHandler): { close(): void } {
    if (this.closed) throw new LogClientError("closed", "tail: client closed");
    const stream = new TailStream(this.nodes, this.secret, shard, fromSeq, h, {
      connectTimeoutMs: this.connectTimeoutMs,
      idleTimeoutMs: this.tailIdleTimeoutMs,
      // Spread tails over the nodes; the leader has enough to do.
      firstNode: Math.floor(Math.random() * this.nodes.length),
    });
    this.tails.add(stream);
    return {
      close: () => {
        this.tails.delete(stream);
        stream.close();
      },
    };
  }

  /**
   * The shard's tip, trim point and live lease, from the leader (with retries),
   * or from the node named `from` as it sees them (one attempt, no retry).
   */
  async shardInfo(shard: ShardId, opts: { from?: string } = {}): Promise<ShardInfoResult> {
    if (!isShardId(shard)) throw new LogClientError("bad-request", `bad shard id ${JSON.stringify(shard)}`);
    let body: Buffer;
    if (opts.from === undefined) body = (await this.call(OP_SHARD_INFO, encodeShardInfoRequest(shard, true), "shardInfo")).body;
    else body = await this.askNode(opts.from, OP_SHARD_INFO, encodeShardInfoRequest(shard, false), "shardInfo");
    const v = JSON.parse(body.toString("utf8")) as ShardInfoResult;
    return { tip: v.tip, trimPoint: v.trimPoint, lease: v.lease, leaseRemainingMs: v.leaseRemainingMs };
  }

  /** One request to one named node on a connection of its own. */
  private async askNode(id: string, op: number, payload: Buffer, what: string): Promise<Buffer> {
    const idx = this.nodes.findIndex((n) => n.id === id);
    if (idx < 0) throw new LogClientError("bad-request", `${what}: no node ${JSON.stringify(id)}`);
    const deadline = Date.now() + this.requestTimeoutMs;
    let conn: Conn;
    try {
      conn = await this.withDeadline(connect(idx, this.nodes[idx] as LogNodeClientAddress, this.secret, this.connectTimeoutMs), deadline);
    } catch (e) {
      throw new LogClientError("unavailable", `${what}: ${id}: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      const o = await this.withDeadline(conn.request(op, payload), deadline);
      if (o.kind === "ok") return o.body;
      throw new LogClientError(o.kind === "error" && o.code === "bad-request" ? "bad-request" : "unavailable", `${what}: ${id}: ${o.message}`);
    } catch (e) {
      if (e instanceof LogClientError) throw e;
      throw new LogClientError("timeout", `${what}: ${id}: no answer within ${this.requestTimeoutMs} ms`);
    } finally {
      conn.kill("done");
    }
  }

  async status(): Promise<Record<string, unknown>> {
    const { body } = await this.call(OP_STATUS, Buffer.alloc(0), "status");
    return JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.tails) t.close();
    this.tails.clear();
    const c = this.conn;
    this.conn = null;
    for (const o of this.old) o.kill("client closed");
    this.old.clear();
    if (c !== null) await c.then((x) => x.kill("client closed"), () => {});
  }

  private async propose(c: Command): Promise<{ reply: Reply; uncertain: boolean }> {
    const bytes = encodeCommand(c);
    const { body, uncertain } = await this.call(OP_PROPOSE, bytes, c.kind);
    const d = decodeReply(body);
    if (!d.ok) throw new LogClientError("protocol", `${c.kind}: reply does not decode: ${d.error.message}`, true);
    if (d.value.op !== c.kind) throw new LogClientError("protocol", `${c.kind}: got a ${d.value.op} reply`, true);
    return { reply: d.value, uncertain };
  }

  /** One request with retries until the deadline. */
  private async call(op: number, payload: Buffer, what: string): Promise<{ body: Buffer; uncertain: boolean }> {
    const deadline = Date.now() + this.requestTimeoutMs;
    let uncertain = false;
    let lastProblem = "no attempt";
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new LogClientError("closed", `${what}: client closed`, uncertain);
      const left = deadline - Date.now();
      if (left <= 0) throw new LogClientError("timeout", `${what}: no answer within ${this.requestTimeoutMs} ms (last: ${lastProblem})`, uncertain);
      if (attempt > 0) this.retries++;
      if (attempt > 0) await sleep(Math.min(25 * attempt, 250, left));
      let conn: Conn;
      try {
        conn = await this.withDeadline(this.getConn(), deadline);
      } catch (e) {
        lastProblem = e instanceof Error ? e.message : String(e);
        this.moveOn(null, null);
        continue;
      }
      let o: Outcome;
      try {
        o = await this.withDeadline(conn.request(op, payload), deadline);
      } catch {
        // The request is still out there; its outcome is unknown.
        throw new LogClientError("timeout", `${what}: no answer within ${this.requestTimeoutMs} ms (last: ${lastProblem})`, true);
      }
      this.retire(conn);
      switch (o.kind) {
        case "ok":
          return { body: o.body, uncertain };
        case "disconnected":
          if (o.written) uncertain = true;
          lastProblem = `${this.nodeName(conn.nodeIndex)}: ${o.message}`;
          this.moveOn(conn, null);
          continue;
        case "error":
          lastProblem = `${this.nodeName(conn.nodeIndex)}: ${o.code}: ${o.message}`;
          if (o.code === "not-leader" || o.code === "unknown-outcome") {
            if (o.code === "unknown-outcome") uncertain = true;
            this.moveOn(conn, o.leader);
            continue;
          }
          throw new LogClientError(o.code === "bad-request" || o.code === "unavailable" ? o.code : "protocol", `${what}: ${lastProblem}`, uncertain);
      }
    }
  }

  private nodeName(i: number): string {
    return this.nodes[i]?.id ?? `#${i}`;
  }

  private withDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error("deadline")), Math.max(0, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private getConn(): Promise<Conn> {
    if (this.conn === null) {
      const idx = this.target;
      const p = connect(idx, this.nodes[idx] as LogNodeClientAddress, this.secret, this.connectTimeoutMs);
      this.conn = p;
      p.then(
        (c) => {
          if (this.closed) c.kill("client closed");
        },
        () => {
          if (this.conn === p) this.conn = null;
        },
      );
      return p;
    }
    return this.conn.then((c) => {
      if (!c.dead) return c;
      if (this.conn !== null) {
        // Replace the dead connection once (later callers see the new promise).
        const cur = this.conn;
        return cur.then((cc) => {
          if (cc === c && this.conn === cur) this.conn = null;
          return this.getConn();
        });
      }
      return this.getConn();
    });
  }

  /** Points the client at the hinted leader, or the next node, unless another request already moved it. */
  private moveOn(from: Conn | null, leader: string | null): void {
    const fromIdx = from?.nodeIndex ?? this.target;
    if (fromIdx !== this.target) return; // someone already moved on
    const hinted = leader === null ? -1 : this.nodes.findIndex((n) => n.id === leader);
    const next = hinted >= 0 && hinted !== fromIdx ? hinted : (fromIdx + 1) % this.nodes.length;
    this.target = next;
    const cur = this.conn;
    this.conn = null;
    if (cur !== null) {
      cur.then(
        (c) => {
          this.old.add(c);
          this.retire(c);
        },
        () => {},
      );
    }
  }

  /** Closes a connection that is no longer current once nothing is waiting on it. */
  private retire(c: Conn): void {
    if (!this.old.has(c) || c.inFlight > 0) return;
    this.old.delete(c);
    c.kill("retired");
  }
}
