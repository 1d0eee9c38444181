// The log node's client port: a TCP listener (its own port, 127.0.0.1 by
// default) that serves log clients (log/client.ts). Every frame is
// [u32 LE length][payload] (frame.ts). Handshake, authenticated both ways
// with the cluster's shared secret:
//   server -> HELLO  u8 1, nonceS (32 random bytes)
//   client -> AUTH   u8 2, HMAC(secret, "log-client" | nonceS), nonceC (32 bytes)
//   server -> OK     u8 3, HMAC(secret, "log-server" | nonceC)      (or close)
// Then request frames  [u32 requestId][u8 op][payload], several in flight:
//   PROPOSE  payload = an encoded command (log/codec encodeCommand)
//   READ     shard, u64 fromSeq, u32 countMax, u32 bytesMax
//   STATUS   (empty)
//   TAIL     shard, u64 fromSeq: a stream; the node pushes a response frame
//            (a read result, see encodeReadResult) whenever records from the
//            stream's next seq are applied here, an empty one with the tip as a
//            heartbeat, and one "trimmed" result that ends it (./tail-server.ts)
//   SHARD_INFO  shard, u8 leaderOnly: JSON {tip, trimPoint, lease, leaseRemainingMs, node, role}
// and response frames [u32 requestId][u8 status][body]:
//   status OK     PROPOSE: the encoded reply; READ: see encodeReadResult; STATUS: JSON
//   status ERROR  str8 code, u8 hasLeader [str8 leader], u32 n, message (n bytes UTF-8)
// Error codes: "not-leader" (the command was not proposed: safe to send
// elsewhere), "unknown-outcome" (it was proposed and may or may not apply),
// "bad-request", "unavailable" (this node cannot serve it: it stopped, or too many tails).
// Requests are handled in arrival order, so proposals enter the Raft log in
// the order a client sent them on one connection.
import * as net from "node:net";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { Reader, Writer, decodeWith, fail, readShardId, writeShardId } from "../state/bytes";
import { COMMAND_BYTES_MAX, type ShardId } from "../state/types";
import { encodeFrame, FrameDecoder } from "./frame";
import { BadCommandError, type LogNode, NotLeaderError } from "./node";
import { ConnectionTails, TAIL_HEARTBEAT_MS, TAILS_PER_CONNECTION_MAX } from "./tail-server";

export const CLIENT_T_HELLO = 1;
export const CLIENT_T_AUTH = 2;
export const CLIENT_T_OK = 3;
export const CLIENT_NONCE_BYTES = 32;
export const OP_PROPOSE = 1;
export const OP_READ = 2;
export const OP_STATUS = 3;
export const OP_TAIL = 4;
export const OP_SHARD_INFO = 5;
export const STATUS_OK = 0;
export const STATUS_ERROR = 1;
/** Request frames carry at most a command plus its 5-byte header. */
export const CLIENT_FRAME_BYTES_MAX = COMMAND_BYTES_MAX + 64;
const AUTH_TIMEOUT_MS = 5_000;
const READ_COUNT_MAX = 65_536;

export type ClientErrorCode = "not-leader" | "unknown-outcome" | "bad-request" | "unavailable";

export function clientMac(secret: string | Uint8Array, role: "log-client" | "log-server", nonce: Uint8Array): Buffer {
  return createHmac("sha256", secret).update(role).update(nonce).digest();
}

export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === 32 && b.length === 32 && timingSafeEqual(a, b);
}

export type WireReadResult =
  | { readonly kind: "records"; readonly firstSeq: number; readonly records: readonly Buffer[]; readonly tip: number }
  | { readonly kind: "trimmed"; readonly trimPoint: number; readonly tip: number };

export function encodeReadRequest(shard: ShardId, fromSeq: number, countMax: number, bytesMax: number): Buffer {
  const w = new Writer(32);
  writeShardId(w, shard);
  w.u64(fromSeq);
  w.u32(countMax);
  w.u32(bytesMax);
  return w.finish();
}

export function encodeTailRequest(shard: ShardId, fromSeq: number): Buffer {
  const w = new Writer(32);
  writeShardId(w, shard);
  w.u64(fromSeq);
  return w.finish();
}

export function encodeShardInfoRequest(shard: ShardId, leaderOnly: boolean): Buffer {
  const w = new Writer(32);
  writeShardId(w, shard);
  w.u8(leaderOnly ? 1 : 0);
  return w.finish();
}

export function encodeReadResult(r: WireReadResult): Buffer {
  const w = new Writer(64);
  if (r.kind === "records") {
    w.u8(1);
    w.u64(r.tip);
    w.u64(r.firstSeq);
    w.u32(r.records.length);
    for (const rec of r.records) {
      w.u32(rec.length);
      w.bytes(rec);
    }
  } else {
    w.u8(2);
    w.u64(r.tip);
    w.u64(r.trimPoint);
  }
  return w.finish();
}

export function decodeReadResult(data: Uint8Array) {
  return decodeWith<WireReadResult>("read result", data, (r) => {
    const kind = r.u8("kind");
    const tip = r.u64("tip");
    if (kind === 2) return { kind: "trimmed", tip, trimPoint: r.u64("trimPoint") };
    if (kind !== 1) fail(`unknown read result kind ${kind}`);
    const firstSeq = r.u64("firstSeq");
    const n = r.u32("count");
    const records: Buffer[] = [];
    for (let i = 0; i < n; i++) records.push(r.bytes(r.u32("record length"), "record"));
    return { kind: "records", tip, firstSeq, records };
  });
}

export function encodeErrorBody(code: ClientErrorCode, leader: string | null, message: string): Buffer {
  const w = new Writer(64);
  w.str8(code);
  w.u8(leader === null ? 0 : 1);
  if (leader !== null) w.str8(leader);
  const m = Buffer.from(message.slice(0, 4000), "utf8");
  w.u32(m.length);
  w.bytes(m);
  return w.finish();
}

export function decodeErrorBody(data: Uint8Array) {
  return decodeWith("error", data, (r) => {
    const code = r.str8("code", 1);
    const has = r.u8("leader presence");
    const leader = has === 1 ? r.str8("leader", 1) : null;
    const message = r.bytes(r.u32("message length"), "message").toString("utf8");
    return { code, leader, message };
  });
}

function response(requestId: number, status: number, body: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(4 + 5 + body.length);
  b.writeUInt32LE(5 + body.length, 0);
  b.writeUInt32BE(requestId >>> 0, 4);
  b[8] = status;
  b.set(body, 9);
  return b;
}

export interface ClientListenerOptions {
  readonly port: number;
  readonly host?: string;
  readonly secret: string | Uint8Array;
  /** Test hook: when it returns true for a request, the connection is closed instead of sending its reply (after the request took effect). */
  readonly dropReply?: (op: number, requestId: number) => boolean;
}

export interface ClientListener {
  readonly port: number;
  close(): Promise<void>;
}

type Send = (requestId: number, op: number, status: number, body: Uint8Array) => void;
type SendError = (requestId: number, op: number, code: ClientErrorCode, leader: string | null, message: string) => void;

/** What the listener knows of one client connection. */
interface ClientConn {
  readonly sock: net.Socket;
  readonly tails: ConnectionTails;
}

/** Starts serving log clients for `node` on opts.host:opts.port (0 = ephemeral). */
export async function startClientListener(node: LogNode, opts: ClientListenerOptions): Promise<ClientListener> {
  const conns = new Set<ClientConn>();
  let closed = false;
  const unlisten = node.listen({
    applied: () => {
      for (const c of conns) c.tails.pumpAll();
    },
    // Tails end with an error, so their clients move to another node.
    stopped: (reason) => {
      for (const c of conns) c.sock.destroy(new Error(reason));
    },
  });
  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const c of conns) c.tails.heartbeat(now);
  }, Math.ceil(TAIL_HEARTBEAT_MS / 2));
  heartbeat.unref();
  const server = net.createServer((sock) => {
    if (closed || !node.running) {
      sock.destroy();
      return;
    }
    sock.on("error", () => {});
    sock.setNoDelay(true);
    const c = serveConnection(node, opts, sock, () => closed);
    conns.add(c);
    sock.on("close", () => {
      c.tails.clear();
      conns.delete(c);
    });
  });
  server.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : opts.port;
  return {
    port,
    close: async () => {
      if (closed) return;
      closed = true;
      unlisten();
      clearInterval(heartbeat);
      for (const c of conns) c.sock.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Writes to `sock`, corked until the current turn's callbacks are done: the
 * replies to a batch of proposals (resolved together when it applies) leave
 * in one system call instead of one each.
 */
export function corkedWriter(sock: net.Socket): (b: Buffer) => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    sock.uncork();
  };
  return (b) => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    sock.write(b);
  };
}

function serveConnection(node: LogNode, opts: ClientListenerOptions, sock: net.Socket, isClosed: () => boolean): ClientConn {
  const decoder = new FrameDecoder(CLIENT_FRAME_BYTES_MAX);
  const nonceS = randomBytes(CLIENT_NONCE_BYTES);
  let authed = false;
  const authTimer = setTimeout(() => sock.destroy(), AUTH_TIMEOUT_MS);
  authTimer.unref();
  sock.on("close", () => clearTimeout(authTimer));
  sock.write(encodeFrame(Buffer.concat([Buffer.from([CLIENT_T_HELLO]), nonceS])));

  const write = corkedWriter(sock);
  const send: Send = (requestId, op, status, body) => {
    if (sock.destroyed) return;
    if (opts.dropReply?.(op, requestId) === true) {
      sock.destroy();
      return;
    }
    write(response(requestId, status, body));
  };
  const sendError: SendError = (requestId, op, code, leader, message) => send(requestId, op, STATUS_ERROR, encodeErrorBody(code, leader, message));
  const tails = new ConnectionTails(node, sock, (requestId, f) => {
    if (!sock.destroyed) write(response(requestId, STATUS_OK, encodeReadResult(f)));
  });

  sock.on("data", (chunk: Buffer) => {
    const { frames, error } = decoder.push(chunk);
    if (error !== null) {
      sock.destroy();
      return;
    }
    for (const f of frames) {
      if (sock.destroyed || isClosed()) return;
      if (!authed) {
        if (f.length !== 1 + 32 + CLIENT_NONCE_BYTES || f[0] !== CLIENT_T_AUTH || !macEqual(f.subarray(1, 33), clientMac(opts.secret, "log-client", nonceS))) {
          sock.destroy();
          return;
        }
        authed = true;
        clearTimeout(authTimer);
        sock.write(encodeFrame(Buffer.concat([Buffer.from([CLIENT_T_OK]), clientMac(opts.secret, "log-server", f.subarray(33))])));
        continue;
      }
      if (f.length < 5) {
        sock.destroy();
        return;
      }
      handleRequest(node, tails, f.readUInt32BE(0), f[4] as number, f.subarray(5), send, sendError);
    }
  });
  return { sock, tails };
}

function handleRequest(node: LogNode, tails: ConnectionTails, requestId: number, op: number, payload: Buffer, send: Send, sendError: SendError): void {
  switch (op) {
    case OP_PROPOSE:
      return handlePropose(node, requestId, payload, send, sendError);
    case OP_READ: {
      const d = decodeWith("read request", payload, (r: Reader) => {
        const shard = readShardId(r);
        return { shard, fromSeq: r.u64("fromSeq"), countMax: r.u32("countMax"), bytesMax: r.u32("bytesMax") };
      });
      if (!d.ok) return sendError(requestId, op, "bad-request", null, d.error.message);
      const q = d.value;
      const count = Math.min(Math.max(q.countMax, 1), READ_COUNT_MAX);
      const res = node.read(q.shard, q.fromSeq, count, Math.max(q.bytesMax, 1));
      if (res.kind === "inStore") return sendError(requestId, op, "unavailable", null, `records ${res.fromSeq}..${res.toSeq} are not in memory`);
      return send(requestId, op, STATUS_OK, encodeReadResult(res));
    }
    case OP_STATUS:
      return send(requestId, op, STATUS_OK, Buffer.from(JSON.stringify(node.status()), "utf8"));
    case OP_TAIL: {
      const d = decodeWith("tail request", payload, (r: Reader) => ({ shard: readShardId(r), fromSeq: r.u64("fromSeq") }));
      if (!d.ok) return sendError(requestId, op, "bad-request", null, d.error.message);
      if (!node.running) return sendError(requestId, op, "unavailable", node.leaderHint, `node ${node.id} has stopped`);
      if (tails.size >= TAILS_PER_CONNECTION_MAX) return sendError(requestId, op, "unavailable", null, `more than ${TAILS_PER_CONNECTION_MAX} tails on one connection`);
      return tails.add(requestId, d.value.shard, d.value.fromSeq);
    }
    case OP_SHARD_INFO: {
      const d = decodeWith("shard info request", payload, (r: Reader) => ({ shard: readShardId(r), leaderOnly: r.u8("leaderOnly") === 1 }));
      if (!d.ok) return sendError(requestId, op, "bad-request", null, d.error.message);
      if (d.value.leaderOnly && (node.role !== "leader" || !node.running)) return sendError(requestId, op, "not-leader", node.leaderHint, `node ${node.id} is not the leader`);
      const info = { ...node.shardInfo(d.value.shard), node: node.id, role: node.role };
      return send(requestId, op, STATUS_OK, Buffer.from(JSON.stringify(info), "utf8"));
    }
    default:
      return sendError(requestId, op, "bad-request", null, `unknown op ${op}`);
  }
}

function handlePropose(node: LogNode, requestId: number, payload: Buffer, send: Send, sendError: SendError): void {
  const op = OP_PROPOSE;
  if (!node.running) return sendError(requestId, op, "not-leader", null, `node ${node.id} has stopped`);
  if (node.role !== "leader") return sendError(requestId, op, "not-leader", node.leaderHint, `node ${node.id} is not the leader`);
  // propose() validates the command and copies it (the frame may share memory with the socket's buffers).
  node.propose(payload).then(
    (reply) => send(requestId, op, STATUS_OK, reply),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      if (e instanceof BadCommandError) return sendError(requestId, op, "bad-request", null, e.message);
      // A bare NotLeaderError (no detail) means it was refused before being proposed.
      if (e instanceof NotLeaderError && e.message === new NotLeaderError(e.leader).message) {
        return sendError(requestId, op, "not-leader", e.leader, e.message);
      }
      if (e.message.startsWith("proposal dropped")) return sendError(requestId, op, "not-leader", node.leaderHint, e.message);
      sendError(requestId, op, "unknown-outcome", e instanceof NotLeaderError ? e.leader : null, e.message);
    },
  );
}
