// How far each replica has got, as the primary learns it: a replica keeps one
// connection to the primary and sends `REPLCONF ACK <seq> <nodeId>` after it
// applies records (at most every ACK_INTERVAL_MS, plus a heartbeat). The
// primary uses the acks for WAIT, INFO replication (offset, lag) and CLUSTER
// NODES link state. Acks are advisory: durability never depends on them.
import * as net from "node:net";
import { encodeRequest } from "../resp/call";

const ACK_INTERVAL_MS = 5;
const HEARTBEAT_MS = 1000;
const RECONNECT_MS = 200;

/** Replica side: one connection to the current primary. */
export class AckSender {
  private sock: net.Socket | null = null;
  private target = "";
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout;
  private lastSentSeq = -1;
  private lastConnectMs = 0;
  private closed = false;

  constructor(
    private readonly nodeId: string,
    private readonly appliedSeq: () => number,
  ) {
    this.heartbeat = setInterval(() => this.send(true), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** The primary moved (or is first known). */
  setPrimary(host: string, port: number): void {
    const t = `${host}:${port}`;
    if (t === this.target) return;
    this.target = t;
    this.sock?.destroy();
    this.sock = null;
    this.lastSentSeq = -1;
    this.applied();
  }

  /** Records were applied: ack soon. */
  applied(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.send(false);
    }, ACK_INTERVAL_MS);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.timer !== null) clearTimeout(this.timer);
    this.sock?.destroy();
  }

  private send(force: boolean): void {
    if (this.closed || this.target === "") return;
    const seq = this.appliedSeq();
    if (!force && seq === this.lastSentSeq) return;
    const s = this.connection();
    if (s === null) return;
    this.lastSentSeq = seq;
    s.write(encodeRequest(["REPLCONF", "ACK", String(seq), this.nodeId]));
  }

  private connection(): net.Socket | null {
    if (this.sock !== null) return this.sock;
    const now = Date.now();
    if (now - this.lastConnectMs < RECONNECT_MS) return null;
    this.lastConnectMs = now;
    const i = this.target.lastIndexOf(":");
    const s = net.connect({ host: this.target.slice(0, i), port: Number(this.target.slice(i + 1)) });
    s.setNoDelay(true);
    s.on("data", () => {}); // replies (if the peer sends some) are not needed
    s.on("error", () => s.destroy());
    s.on("close", () => {
      if (this.sock === s) {
        this.sock = null;
        this.lastSentSeq = -1;
      }
    });
    this.sock = s;
    return s;
  }
}

export interface ReplicaAck {
  seq: number;
  atMs: number;
}

interface Waiter {
  readonly seq: number;
  readonly replicas: number;
  readonly done: (count: number) => void;
}

/** Primary side: the acks received, and WAIT callers waiting for them. */
export class AckBoard {
  readonly acks = new Map<string, ReplicaAck>();
  private waiters: Waiter[] = [];

  ack(nodeId: string, seq: number): void {
    const cur = this.acks.get(nodeId);
    if (cur === undefined || seq >= cur.seq) this.acks.set(nodeId, { seq, atMs: Date.now() });
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      const n = this.countAt(w.seq);
      if (n >= w.replicas) w.done(n);
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Replicas that have applied seq. */
  countAt(seq: number): number {
    let n = 0;
    for (const a of this.acks.values()) if (a.seq >= seq) n++;
    return n;
  }

  wait(seq: number, replicas: number, done: (count: number) => void): () => void {
    const w: Waiter = { seq, replicas, done };
    this.waiters.push(w);
    return () => {
      this.waiters = this.waiters.filter((x) => x !== w);
    };
  }
}
