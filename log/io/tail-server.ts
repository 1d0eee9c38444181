// The node side of OP_TAIL: push a shard's committed records to a client as
// they are applied on this node (leader or follower alike).
//
// Nothing is buffered here: a subscription is only (shard, next seq), and each
// push reads the records from the node's applied state (window or record
// store), so memory per tail is bounded by the socket's send buffer. Flow
// control: a connection is only written to while its socket holds fewer than
// TAIL_SOCKET_BYTES_MAX unsent bytes; the socket's 'drain' resumes it. A tail
// that falls below the trim point (a slow reader and a trim) gets one
// "trimmed" frame and ends. When idle, a tail gets an empty frame carrying the
// tip every TAIL_HEARTBEAT_MS while the node knows a leader, so a client can
// tell a silent (stopped, partitioned) node from a quiet shard.
import type * as net from "node:net";
import type { ShardId } from "../state/types";
import type { LogNode } from "./node";

/** Unsent bytes in a socket beyond which tails on it wait for 'drain'. */
export const TAIL_SOCKET_BYTES_MAX = 1024 * 1024;
/** Records and bytes per pushed frame (at least one record). */
export const TAIL_FRAME_RECORDS_MAX = 4096;
export const TAIL_FRAME_BYTES_MAX = 256 * 1024;
/** An idle tail hears from a healthy node at least this often. */
export const TAIL_HEARTBEAT_MS = 250;
/** Tails one connection may hold. */
export const TAILS_PER_CONNECTION_MAX = 1024;

export type TailFrame =
  | { readonly kind: "records"; readonly firstSeq: number; readonly records: readonly Buffer[]; readonly tip: number }
  | { readonly kind: "trimmed"; readonly trimPoint: number; readonly tip: number };

interface Sub {
  readonly requestId: number;
  readonly shard: ShardId;
  next: number;
  lastSentMs: number;
}

/** The tails of one client connection. */
export class ConnectionTails {
  private readonly subs = new Map<number, Sub>();

  constructor(
    private readonly node: LogNode,
    private readonly sock: net.Socket,
    private readonly push: (requestId: number, f: TailFrame) => void,
  ) {
    sock.on("drain", () => this.pumpAll());
  }

  get size(): number {
    return this.subs.size;
  }

  add(requestId: number, shard: ShardId, fromSeq: number): void {
    this.subs.set(requestId, { requestId, shard, next: fromSeq, lastSentMs: Date.now() });
    this.pumpAll();
  }

  /** Pushes whatever each tail has not been sent yet, while the socket has room. */
  pumpAll(): void {
    for (const s of this.subs.values()) {
      if (!this.pump(s)) return;
    }
  }

  /** An empty frame with the tip to every tail that heard nothing for TAIL_HEARTBEAT_MS. */
  heartbeat(nowMs: number): void {
    if (this.node.leaderHint === null || this.node.haltReason !== null) return;
    for (const s of this.subs.values()) {
      if (nowMs - s.lastSentMs < TAIL_HEARTBEAT_MS || !this.hasRoom()) continue;
      const tip = this.node.shardInfo(s.shard).tip;
      s.lastSentMs = nowMs;
      this.push(s.requestId, { kind: "records", firstSeq: s.next, records: [], tip });
    }
  }

  clear(): void {
    this.subs.clear();
  }

  private hasRoom(): boolean {
    return !this.sock.destroyed && this.sock.writableLength < TAIL_SOCKET_BYTES_MAX;
  }

  /** False once the socket is full. */
  private pump(s: Sub): boolean {
    for (;;) {
      if (!this.hasRoom()) return false;
      const r = this.node.read(s.shard, s.next, TAIL_FRAME_RECORDS_MAX, TAIL_FRAME_BYTES_MAX);
      if (r.kind === "trimmed") {
        this.subs.delete(s.requestId);
        this.push(s.requestId, r);
        return true;
      }
      if (r.kind === "inStore" || r.records.length === 0) return true;
      s.lastSentMs = Date.now();
      this.push(s.requestId, { kind: "records", firstSeq: s.next, records: r.records, tip: r.tip });
      s.next += r.records.length;
    }
  }
}
