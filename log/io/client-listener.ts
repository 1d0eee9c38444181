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
// and response frames [u32 requestId][u8 status][body]:
//   status OK     PROPOSE: the encoded reply; READ: see encodeReadResult; STATUS: JSON
//   status ERROR  str8 code, u8 hasLeader [str8 leader], u32 n, message (n bytes UTF-8)
// Error codes: "not-leader" (the command was not proposed: safe to send
// elsewhere), "unknown-outcome" (it was proposed and may or may not apply),
// "bad-request", "unavailable" (a read this node cannot serve from memory).
// Requests are handled in arrival order, so proposals enter the Raft log in
// the order a client sent them on one connection.
import * as net from "node:net";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { decodeCommand } from "../codec";
import { Reader, Writer, decodeWith, fail, readShardId, writeShardId } from "../state/bytes";
import { COMMAND_BYTES_MAX, type ShardId } from "../state/types";
import { encodeFrame, FrameDecoder } from "./frame";
import { type LogNode, NotLeaderError } from "./node";

export const CLIENT_T_HELLO = 1;
export const CLIENT_T_AUTH = 2;
export const CLIENT_T_OK = 3;
export const CLIENT_NONCE_BYTES = 32;
export const OP_PROPOSE = 1;
export const OP_READ = 2;
export const OP_STATUS = 3;
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
  const b = Buffer.allocUnsafe(5 + body.length);
  b.writeUInt32BE(requestId >>> 0, 0);
  b[4] = status;
  b.set(body, 5);
  return encodeFrame(b);
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

/** Starts serving log clients for `node` on opts.host:opts.port (0 = ephemeral). */
export async function startClientListener(node: LogNode, opts: ClientListenerOptions): Promise<ClientListener> {
  const sockets = new Set<net.Socket>();
  let closed = false;
  const server = net.createServer((sock) => {
    if (closed) {
      sock.destroy();
      return;
    }
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    sock.setNoDelay(true);
    serveConnection(node, opts, sock, () => closed);
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
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serveConnection(node: LogNode, opts: ClientListenerOptions, sock: net.Socket, isClosed: () => boolean): void {
  const decoder = new FrameDecoder(CLIENT_FRAME_BYTES_MAX);
  const nonceS = randomBytes(CLIENT_NONCE_BYTES);
  let authed = false;
  const authTimer = setTimeout(() => sock.destroy(), AUTH_TIMEOUT_MS);
  authTimer.unref();
  sock.on("close", () => clearTimeout(authTimer));
  sock.write(encodeFrame(Buffer.concat([Buffer.from([CLIENT_T_HELLO]), nonceS])));

  const send = (requestId: number, op: number, status: number, body: Uint8Array): void => {
    if (sock.destroyed) return;
    if (opts.dropReply?.(op, requestId) === true) {
      sock.destroy();
      return;
    }
    sock.write(response(requestId, status, body));
  };
  const sendError = (requestId: number, op: number, code: ClientErrorCode, leader: string | null, message: string): void =>
    send(requestId, op, STATUS_ERROR, encodeErrorBody(code, leader, message));

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
      handleRequest(node, f.readUInt32BE(0), f[4] as number, f.subarray(5), send, sendError);
    }
  });
}

function handleRequest(
  node: LogNode,
  requestId: number,
  op: number,
  payload: Buffer,
  send: (requestId: number, op: number, status: number, body: Uint8Array) => void,
  sendError: (requestId: number, op: number, code: ClientErrorCode, leader: string | null, message: string) => void,
): void {
  switch (op) {
    case OP_PROPOSE: {
      const d = decodeCommand(payload);
      if (!d.ok) return sendError(requestId, op, "bad-request", null, `bad command: ${d.error.message}`);
      const st = node.status();
      if (st.halted !== null) return sendError(requestId, op, "not-leader", null, `node ${node.id} has stopped`);
      if (st.role !== "leader") return sendError(requestId, op, "not-leader", st.leader, `node ${node.id} is not the leader`);
      // Copy: the frame may share memory with the socket's buffers.
      node.propose(Buffer.from(payload)).then(
        (reply) => send(requestId, op, STATUS_OK, reply),
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          // A bare NotLeaderError (no detail) means it was refused before being proposed.
          if (e instanceof NotLeaderError && e.message === new NotLeaderError(e.leader).message) {
            return sendError(requestId, op, "not-leader", e.leader, e.message);
          }
          if (e.message.startsWith("proposal dropped")) return sendError(requestId, op, "not-leader", node.status().leader, e.message);
          sendError(requestId, op, "unknown-outcome", e instanceof NotLeaderError ? e.leader : null, e.message);
        },
      );
      return;
    }
    case OP_READ: {
      const d = decodeWith("read request", payload, (r: Reader) => {
        const shard = readShardId(r);
        return { shard, fromSeq: r.u64("fromSeq"), countMax: r.u32("countMax"), bytesMax: r.u32("bytesMax") };
      });
      if (!d.ok) return sendError(requestId, op, "bad-request", null, d.error.message);
      const q = d.value;
      const count = Math.min(Math.max(q.countMax, 1), READ_COUNT_MAX);
      const res = node.stateMachine.read(q.shard, q.fromSeq, count, Math.max(q.bytesMax, 1));
      if (res.kind === "inStore") return sendError(requestId, op, "unavailable", null, `records ${res.fromSeq}..${res.toSeq} are not in memory`);
      return send(requestId, op, STATUS_OK, encodeReadResult(res));
    }
    case OP_STATUS:
      return send(requestId, op, STATUS_OK, Buffer.from(JSON.stringify(node.status()), "utf8"));
    default:
      return sendError(requestId, op, "bad-request", null, `unknown op ${op}`);
  }
}
