// The TCP transport between log nodes. Each node listens on host:port and dials
// every peer; each direction of a pair uses its own connection (a node sends
// only on the connection it dialled and receives only on those it accepted),
// so there is never a race over which of two connections to keep.
//
// Every frame is [u32 LE length][u8 type][body] (see frame.ts). Handshake, both
// directions authenticated with the cluster's shared secret:
//   server -> HELLO  version, serverId, nonceS (32 random bytes)
//   client -> AUTH   version, clientId, HMAC(secret, "client", nonceS, serverId, clientId), nonceC
//   server -> OK     HMAC(secret, "server", nonceC, serverId, clientId)
//          or REJECT reason, then close
// After OK the client sends MSG frames (a Raft message, log/raft/codec.ts).
// Outgoing messages are batched per peer per event-loop turn (one socket write
// per turn); a message for a peer that is not connected, or whose queue is
// full, is dropped (Raft retries). Nothing from the network can throw out of
// here: a malformed frame or message closes that connection and is reported.
import * as net from "node:net";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Reader, Writer, decodeMessage, decodeWith, encodeMessage } from "../raft/codec";
import type { Message, NodeId } from "../raft/types";
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, FrameDecoder, frameHeader } from "./frame";

export const PROTOCOL_VERSION = 1;

const T_HELLO = 1;
const T_AUTH = 2;
const T_OK = 3;
const T_REJECT = 4;
const T_MSG = 16;
const NONCE_BYTES = 32;
const MAC_BYTES = 32;

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export type TransportEventKind =
  | "connected" // our connection to `peer` is authenticated
  | "disconnected" // our connection to `peer` closed
  | "accepted" // `peer` connected to us and authenticated
  | "rejected" // a handshake failed (bad secret, version, unknown node, timeout)
  | "protocol-error" // a connection sent something malformed and was closed
  | "dropped"; // a message was dropped for a reason other than a missing connection (too large)

export interface TransportEvent {
  readonly kind: TransportEventKind;
  /** The peer concerned, when known. */
  readonly peer: NodeId | null;
  readonly detail: string;
}

export interface TransportOptions {
  readonly id: NodeId;
  /** 0 for an ephemeral port; read `port` after `start()`. */
  readonly port: number;
  readonly host?: string;
  readonly peers?: ReadonlyMap<NodeId, PeerAddress> | Readonly<Record<NodeId, PeerAddress>>;
  readonly secret: string | Uint8Array;
  /** Every authenticated message addressed to this node, in arrival order per peer. */
  readonly onMessage: (m: Message) => void;
  readonly onEvent?: (e: TransportEvent) => void;
  /** Injected inter-AZ delay: every outgoing frame is written this many ms late, order preserved. */
  readonly azDelayMs?: number;
  readonly maxFrameBytes?: number;
  /** Per peer: bytes queued (this turn + delayed + in the socket's buffer) beyond which messages are dropped. */
  readonly maxQueueBytes?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  readonly handshakeTimeoutMs?: number;
}

export interface TransportStats {
  sent: number;
  received: number;
  /** Dropped because the peer was not connected or its queue was full, or too large to frame. */
  dropped: number;
  rejected: number;
}

interface Delayed {
  readonly due: number;
  readonly buf: Buffer;
  readonly gen: number;
}

/** Our outgoing connection to one peer. */
class Link {
  socket: net.Socket | null = null;
  authed = false;
  gen = 0;
  pending: Buffer[] = [];
  pendingBytes = 0;
  flushScheduled = false;
  delayed: Delayed[] = [];
  delayedBytes = 0;
  delayTimer: NodeJS.Timeout | null = null;
  reconnectTimer: NodeJS.Timeout | null = null;
  handshakeTimer: NodeJS.Timeout | null = null;
  backoffMs: number;
  lastFailure = "";

  constructor(
    readonly id: NodeId,
    public addr: PeerAddress,
    backoffMinMs: number,
  ) {
    this.backoffMs = backoffMinMs;
  }
}

export class Transport {
  readonly id: NodeId;
  readonly stats: TransportStats = { sent: 0, received: 0, dropped: 0, rejected: 0 };
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly secret: Buffer;
  private readonly onMessage: (m: Message) => void;
  private readonly onEvent: (e: TransportEvent) => void;
  private readonly azDelayMs: number;
  private readonly maxFrameBytes: number;
  private readonly maxQueueBytes: number;
  private readonly backoffMinMs: number;
  private readonly backoffMaxMs: number;
  private readonly handshakeTimeoutMs: number;
  private readonly links = new Map<NodeId, Link>();
  private readonly inbound = new Set<net.Socket>();
  /** The current authenticated inbound connection from each peer. */
  private readonly inboundByPeer = new Map<NodeId, net.Socket>();
  private server: net.Server | null = null;
  private boundPort = 0;
  private started = false;
  private closed = false;

  constructor(opts: TransportOptions) {
    this.id = opts.id;
    this.host = opts.host ?? "127.0.0.1";
    this.requestedPort = opts.port;
    this.secret = typeof opts.secret === "string" ? Buffer.from(opts.secret, "utf8") : Buffer.from(opts.secret);
    this.onMessage = opts.onMessage;
    this.onEvent = opts.onEvent ?? (() => {});
    this.azDelayMs = Math.max(0, opts.azDelayMs ?? 0);
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxQueueBytes = opts.maxQueueBytes ?? 256 * 1024 * 1024;
    this.backoffMinMs = Math.max(1, opts.backoffMinMs ?? 50);
    this.backoffMaxMs = Math.max(this.backoffMinMs, opts.backoffMaxMs ?? 2000);
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 5000;
    const peers = opts.peers;
    if (peers !== undefined) {
      const entries = peers instanceof Map ? [...peers.entries()] : Object.entries(peers as Record<NodeId, PeerAddress>);
      for (const [id, addr] of entries) this.setPeer(id, addr);
    }
  }

  /** The bound port (after `start()`). */
  get port(): number {
    return this.boundPort;
  }

  /** Listens, then dials every known peer. Resolves with the bound port. */
  start(): Promise<number> {
    if (this.started) return Promise.resolve(this.boundPort);
    this.started = true;
    return new Promise((resolve, reject) => {
      const server = net.createServer((s) => this.accept(s));
      this.server = server;
      const onError = (err: Error): void => reject(err);
      server.once("error", onError);
      server.listen({ host: this.host, port: this.requestedPort }, () => {
        server.off("error", onError);
        server.on("error", (err) => this.emit("protocol-error", null, `listener: ${err.message}`));
        const a = server.address();
        this.boundPort = typeof a === "object" && a !== null ? a.port : 0;
        for (const link of this.links.values()) this.dial(link);
        resolve(this.boundPort);
      });
    });
  }

  /** Adds a peer or changes its address (the current connection is dropped and redialled). */
  setPeer(id: NodeId, addr: PeerAddress): void {
    if (id === this.id) return;
    const existing = this.links.get(id);
    if (existing !== undefined) {
      if (existing.addr.host === addr.host && existing.addr.port === addr.port) return;
      existing.addr = addr;
      existing.backoffMs = this.backoffMinMs;
      this.resetLink(existing);
      if (existing.reconnectTimer !== null) clearTimeout(existing.reconnectTimer);
      existing.reconnectTimer = null;
      if (this.started && !this.closed) this.dial(existing);
      return;
    }
    const link = new Link(id, addr, this.backoffMinMs);
    this.links.set(id, link);
    if (this.started && !this.closed) this.dial(link);
  }

  /** Whether our connection to `id` is up and authenticated. */
  isConnected(id: NodeId): boolean {
    return this.links.get(id)?.authed === true;
  }

  /** Queues `m` for `m.to`; false if it was dropped (unknown or disconnected peer, full queue, too large). */
  send(m: Message): boolean {
    const link = this.links.get(m.to);
    if (this.closed || link === undefined || !link.authed || link.socket === null) {
      this.stats.dropped++;
      return false;
    }
    let body: Buffer;
    try {
      body = encodeMessage(m);
    } catch (e) {
      this.stats.dropped++;
      this.emit("dropped", m.to, `cannot encode message: ${(e as Error).message}`);
      return false;
    }
    const len = 1 + body.length;
    if (len > this.maxFrameBytes) {
      this.stats.dropped++;
      this.emit("dropped", m.to, `message of ${len} bytes exceeds the frame maximum of ${this.maxFrameBytes}`);
      return false;
    }
    const queued = link.pendingBytes + link.delayedBytes + link.socket.writableLength;
    if (queued + FRAME_HEADER_BYTES + len > this.maxQueueBytes) {
      this.stats.dropped++;
      return false;
    }
    const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1);
    head.writeUInt32LE(len, 0);
    head[FRAME_HEADER_BYTES] = T_MSG;
    link.pending.push(head, body);
    link.pendingBytes += head.length + body.length;
    this.stats.sent++;
    if (!link.flushScheduled) {
      link.flushScheduled = true;
      setImmediate(() => this.flush(link));
    }
    return true;
  }

  /**
   * Writes every queued message to its socket now instead of at the end of the
   * turn (the log node calls this once per Ready loop, so it still writes
   * once per peer per batch, and a leader can put its appends on the wire
   * before it starts its own fsync).
   */
  flushAll(): void {
    for (const link of this.links.values()) if (link.pending.length > 0) this.flush(link);
  }

  /** Stops listening, closes every connection, cancels every timer. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const link of this.links.values()) {
      if (link.reconnectTimer !== null) clearTimeout(link.reconnectTimer);
      link.reconnectTimer = null;
      this.resetLink(link);
    }
    for (const s of this.inbound) s.destroy();
    this.inbound.clear();
    this.inboundByPeer.clear();
    const server = this.server;
    this.server = null;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  // ---- outgoing ----

  private flush(link: Link): void {
    link.flushScheduled = false;
    if (link.pending.length === 0) return;
    const buf = link.pending.length === 1 ? (link.pending[0] as Buffer) : Buffer.concat(link.pending, link.pendingBytes);
    link.pending = [];
    link.pendingBytes = 0;
    if (!link.authed || link.socket === null) return;
    if (this.azDelayMs === 0) {
      link.socket.write(buf);
      return;
    }
    link.delayed.push({ due: performance.now() + this.azDelayMs, buf, gen: link.gen });
    link.delayedBytes += buf.length;
    if (link.delayTimer === null) this.armDelay(link);
  }

  private armDelay(link: Link): void {
    const next = link.delayed[0];
    if (next === undefined) return;
    const wait = Math.max(0, Math.ceil(next.due - performance.now()));
    link.delayTimer = setTimeout(() => this.releaseDelayed(link), wait);
    link.delayTimer.unref();
  }

  private releaseDelayed(link: Link): void {
    link.delayTimer = null;
    const now = performance.now();
    const out: Buffer[] = [];
    while (link.delayed.length > 0 && (link.delayed[0] as Delayed).due <= now) {
      const d = link.delayed.shift() as Delayed;
      link.delayedBytes -= d.buf.length;
      if (d.gen === link.gen) out.push(d.buf);
    }
    if (out.length > 0 && link.authed && link.socket !== null) link.socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
    this.armDelay(link);
  }

  /** Forgets the current connection and everything queued for it. */
  private resetLink(link: Link): void {
    link.gen++;
    link.authed = false;
    const s = link.socket;
    link.socket = null;
    if (s !== null) s.destroy();
    if (link.handshakeTimer !== null) clearTimeout(link.handshakeTimer);
    link.handshakeTimer = null;
    if (link.delayTimer !== null) clearTimeout(link.delayTimer);
    link.delayTimer = null;
    link.pending = [];
    link.pendingBytes = 0;
    link.delayed = [];
    link.delayedBytes = 0;
  }

  private dial(link: Link): void {
    if (this.closed || link.socket !== null) return;
    const gen = ++link.gen;
    const socket = net.connect({ host: link.addr.host, port: link.addr.port });
    link.socket = socket;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(this.maxFrameBytes);
    let state: "hello" | "ok" | "open" = "hello";
    let nonceC: Buffer | null = null;
    const fail = (kind: TransportEventKind, detail: string): void => {
      if (link.gen !== gen) return;
      link.lastFailure = detail;
      if (kind === "rejected") this.stats.rejected++;
      this.emit(kind, link.id, detail);
      socket.destroy();
    };
    link.handshakeTimer = setTimeout(() => fail("rejected", "handshake timed out"), this.handshakeTimeoutMs);
    link.handshakeTimer.unref();
    socket.on("data", (chunk: Buffer) => {
      if (link.gen !== gen) return;
      const { frames, error } = decoder.push(chunk);
      for (const f of frames) {
        if (link.gen !== gen) return;
        const type = f[0];
        const body = f.subarray(1);
        if (state === "hello") {
          if (type === T_REJECT) return fail("rejected", `refused by ${link.id}: ${readReason(body)}`);
          if (type !== T_HELLO || body.length < 4) return fail("protocol-error", "expected a HELLO frame");
          const version = body.readUInt32LE(0);
          if (version !== PROTOCOL_VERSION) {
            return fail("rejected", `${link.id} speaks protocol version ${version}, we speak ${PROTOCOL_VERSION}`);
          }
          const hello = decodeWith(body, readHello);
          if (!hello.ok || hello.value.nonce.length !== NONCE_BYTES) return fail("protocol-error", "malformed HELLO frame");
          if (hello.value.id !== link.id) return fail("rejected", `expected node ${link.id}, found ${hello.value.id}`);
          nonceC = randomBytes(NONCE_BYTES);
          const w = new Writer(128);
          w.u8(T_AUTH);
          w.u32(PROTOCOL_VERSION);
          w.str(this.id);
          w.bytes(this.mac("client", hello.value.nonce, link.id, this.id));
          w.bytes(nonceC);
          socket.write(frame(w.finish()));
          state = "ok";
        } else if (state === "ok") {
          if (type === T_REJECT) return fail("rejected", `refused by ${link.id}: ${readReason(body)}`);
          const ok = type === T_OK ? decodeWith(body, (r) => r.bytes()) : null;
          if (ok === null || !ok.ok) return fail("protocol-error", "expected a valid OK frame");
          if (!macEqual(ok.value, this.mac("server", nonceC as Buffer, link.id, this.id))) {
            return fail("rejected", `${link.id} failed to prove the shared secret`);
          }
          state = "open";
          link.authed = true;
          link.backoffMs = this.backoffMinMs;
          link.lastFailure = "";
          if (link.handshakeTimer !== null) clearTimeout(link.handshakeTimer);
          link.handshakeTimer = null;
          this.emit("connected", link.id, `${link.addr.host}:${link.addr.port}`);
        } else {
          return fail("protocol-error", "unexpected frame from the server side after the handshake");
        }
      }
      if (error !== null) fail("protocol-error", error);
    });
    socket.on("error", (err) => {
      if (link.gen === gen) link.lastFailure = err.message;
    });
    socket.on("close", () => {
      if (link.gen !== gen) return;
      const wasUp = link.authed;
      this.resetLink(link);
      if (wasUp) this.emit("disconnected", link.id, link.lastFailure || "connection closed");
      this.scheduleReconnect(link);
    });
  }

  private scheduleReconnect(link: Link): void {
    if (this.closed || link.reconnectTimer !== null) return;
    const base = link.backoffMs;
    link.backoffMs = Math.min(this.backoffMaxMs, base * 2);
    const wait = Math.round(base * (0.5 + Math.random() * 0.5));
    link.reconnectTimer = setTimeout(() => {
      link.reconnectTimer = null;
      this.dial(link);
    }, wait);
    link.reconnectTimer.unref();
  }

  // ---- incoming ----

  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(this.maxFrameBytes);
    const nonceS = randomBytes(NONCE_BYTES);
    let peer: NodeId | null = null;
    let done = false;
    const fail = (kind: TransportEventKind, detail: string, tell?: string): void => {
      if (done) return;
      done = true;
      if (kind === "rejected") this.stats.rejected++;
      this.emit(kind, peer, detail);
      if (tell !== undefined) {
        const w = new Writer(64);
        w.u8(T_REJECT);
        w.str(tell);
        socket.end(frame(w.finish()));
        const t = setTimeout(() => socket.destroy(), 1000);
        t.unref();
      } else {
        socket.destroy();
      }
    };
    const timer = setTimeout(() => fail("rejected", "handshake timed out"), this.handshakeTimeoutMs);
    timer.unref();
    socket.on("data", (chunk: Buffer) => {
      if (done) return;
      const { frames, error } = decoder.push(chunk);
      for (const f of frames) {
        if (done) return;
        const type = f[0];
        const body = f.subarray(1);
        if (peer === null) {
          if (type !== T_AUTH || body.length < 4) return fail("protocol-error", "expected an AUTH frame");
          const version = body.readUInt32LE(0);
          if (version !== PROTOCOL_VERSION) {
            return fail("rejected", `client speaks protocol version ${version}`, `unsupported protocol version ${version}`);
          }
          const auth = decodeWith(body, readAuth);
          if (!auth.ok || auth.value.nonce.length !== NONCE_BYTES) return fail("protocol-error", "malformed AUTH frame");
          const a = auth.value;
          if (!this.links.has(a.id)) return fail("rejected", `unknown node ${JSON.stringify(a.id)}`, "unknown node");
          if (!macEqual(a.mac, this.mac("client", nonceS, this.id, a.id))) {
            return fail("rejected", `${a.id} failed to prove the shared secret`, "authentication failed");
          }
          peer = a.id;
          clearTimeout(timer);
          const w = new Writer(64);
          w.u8(T_OK);
          w.bytes(this.mac("server", a.nonce, this.id, a.id));
          socket.write(frame(w.finish()));
          const old = this.inboundByPeer.get(peer);
          this.inboundByPeer.set(peer, socket);
          if (old !== undefined) old.destroy();
          this.emit("accepted", peer, "");
        } else {
          if (type !== T_MSG) return fail("protocol-error", `unexpected frame type ${type}`);
          const m = decodeMessage(body);
          if (!m.ok) return fail("protocol-error", `bad message: ${m.error}`);
          if (m.value.from !== peer || m.value.to !== this.id) {
            return fail("protocol-error", `message ${m.value.from} -> ${m.value.to} on the connection from ${peer}`);
          }
          this.stats.received++;
          this.onMessage(m.value);
        }
      }
      if (error !== null) fail("protocol-error", error);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      done = true;
      clearTimeout(timer);
      this.inbound.delete(socket);
      if (peer !== null && this.inboundByPeer.get(peer) === socket) this.inboundByPeer.delete(peer);
    });
    const w = new Writer(96);
    w.u8(T_HELLO);
    w.u32(PROTOCOL_VERSION);
    w.str(this.id);
    w.bytes(nonceS);
    socket.write(frame(w.finish()));
  }

  // ---- helpers ----

  private mac(role: "client" | "server", nonce: Uint8Array, serverId: NodeId, clientId: NodeId): Buffer {
    const w = new Writer(128);
    w.str(`mnemo-log-transport/${PROTOCOL_VERSION}/${role}`);
    w.bytes(nonce);
    w.str(serverId);
    w.str(clientId);
    return createHmac("sha256", this.secret).update(w.finish()).digest();
  }

  private emit(kind: TransportEventKind, peer: NodeId | null, detail: string): void {
    this.onEvent({ kind, peer, detail });
  }
}

function frame(payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(payload.length), payload]);
}

function macEqual(a: Uint8Array, b: Buffer): boolean {
  return a.length === MAC_BYTES && b.length === MAC_BYTES && timingSafeEqual(a, b);
}

function readHello(r: Reader): { version: number; id: NodeId; nonce: Uint8Array } {
  const version = r.u32();
  const id = r.str();
  const nonce = r.bytes();
  return { version, id, nonce };
}

function readAuth(r: Reader): { version: number; id: NodeId; mac: Uint8Array; nonce: Uint8Array } {
  const version = r.u32();
  const id = r.str();
  const mac = r.bytes();
  const nonce = r.bytes();
  return { version, id, mac, nonce };
}

function readReason(body: Buffer): string {
  const d = decodeWith(body, (r) => r.str());
  return d.ok ? d.value : "(no reason)";
}
