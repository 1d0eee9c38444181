// A small RESP2 client for the checker: one connection, one request at a
// time (a checker client must know exactly which reply answers which
// request), every call bounded by a timeout. Binary-safe: arguments and
// replies are latin1 strings. On a timeout or a broken connection the client
// is closed: a late reply could otherwise be taken for the next request's.
import * as net from "node:net";
import { assert } from "./assert";

export type RespValue =
  | { readonly kind: "simple"; readonly value: string }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "bulk"; readonly value: string | null }
  | { readonly kind: "array"; readonly items: readonly RespValue[] | null };

/** Why a call got no reply: the request may or may not have been executed. */
export class RespConnectionError extends Error {
  override name = "RespConnectionError";
  constructor(
    message: string,
    /** False when the request was certainly not sent (the connection was down before it). */
    readonly maybeSent: boolean,
  ) {
    super(message);
  }
}

/** Limits on what a reply may hold, so a confused peer cannot exhaust memory. */
const BULK_BYTES_MAX = 64 * 1024 * 1024;
const ARRAY_ITEMS_MAX = 1_000_000;
const NESTING_MAX = 8;

type Parsed = { readonly value: RespValue; readonly end: number } | null;

/** Parses one reply at `pos`, or null when `buf` does not hold all of it yet. Throws on garbage. */
export function parseReply(buf: string, pos: number, depth = 0): Parsed {
  if (depth > NESTING_MAX) throw new Error("reply nested too deeply");
  const eol = buf.indexOf("\r\n", pos);
  if (eol < 0) return null;
  const line = buf.slice(pos + 1, eol);
  switch (buf[pos]) {
    case "+":
      return { value: { kind: "simple", value: line }, end: eol + 2 };
    case "-":
      return { value: { kind: "error", message: line }, end: eol + 2 };
    case ":":
      return { value: { kind: "int", value: integer(line) }, end: eol + 2 };
    case "$": {
      const n = integer(line);
      if (n < 0) return { value: { kind: "bulk", value: null }, end: eol + 2 };
      if (n > BULK_BYTES_MAX) throw new Error(`bulk of ${n} bytes`);
      if (buf.length < eol + 2 + n + 2) return null;
      return { value: { kind: "bulk", value: buf.slice(eol + 2, eol + 2 + n) }, end: eol + 2 + n + 2 };
    }
    case "*": {
      const n = integer(line);
      if (n < 0) return { value: { kind: "array", items: null }, end: eol + 2 };
      if (n > ARRAY_ITEMS_MAX) throw new Error(`array of ${n} items`);
      const items: RespValue[] = [];
      let at = eol + 2;
      for (let i = 0; i < n; i++) {
        const p = parseReply(buf, at, depth + 1);
        if (p === null) return null;
        items.push(p.value);
        at = p.end;
      }
      return { value: { kind: "array", items }, end: at };
    }
    default:
      throw new Error(`unexpected reply type byte ${JSON.stringify(buf[pos])}`);
  }
}

function integer(s: string): number {
  if (!/^-?\d{1,16}$/.test(s)) throw new Error(`bad integer ${JSON.stringify(s)}`);
  return Number(s);
}

export function encodeCommand(args: readonly string[]): Buffer {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  return Buffer.from(out, "latin1");
}

export class RespClient {
  private buf = "";
  private pending: { resolve: (v: RespValue) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private closedWith: string | null = null;

  private constructor(
    private readonly sock: net.Socket,
    readonly host: string,
    readonly port: number,
  ) {
    sock.setNoDelay(true);
    sock.on("data", (d: Buffer) => this.onData(d));
    sock.on("error", (e) => this.fail(`connection error: ${e.message}`));
    sock.on("close", () => this.fail("connection closed"));
  }

  static connect(host: string, port: number, timeoutMs: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new RespConnectionError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`, false));
      }, timeoutMs);
      sock.once("error", (e) => {
        clearTimeout(timer);
        reject(new RespConnectionError(`connect to ${host}:${port}: ${e.message}`, false));
      });
      sock.once("connect", () => {
        clearTimeout(timer);
        sock.removeAllListeners("error");
        resolve(new RespClient(sock, host, port));
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Sends one command and waits for its reply; rejects with RespConnectionError on timeout or loss. */
  call(args: readonly string[], timeoutMs: number): Promise<RespValue> {
    assert(this.pending === null, "one request at a time");
    if (this.closedWith !== null) return Promise.reject(new RespConnectionError(this.closedWith, false));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(`no reply within ${timeoutMs} ms`);
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.sock.write(encodeCommand(args));
    });
  }

  close(): void {
    this.fail("closed by the checker");
  }

  private onData(d: Buffer): void {
    this.buf += d.toString("latin1");
    let p: Parsed;
    try {
      p = parseReply(this.buf, 0);
    } catch (e) {
      this.fail(`protocol error: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (p === null) return;
    const pending = this.pending;
    this.buf = this.buf.slice(p.end);
    if (pending === null || this.buf.length > 0) {
      // A reply nobody asked for: the stream can no longer be trusted.
      this.fail("unexpected reply");
      return;
    }
    this.pending = null;
    clearTimeout(pending.timer);
    pending.resolve(p.value);
  }

  private fail(why: string): void {
    if (this.closedWith === null) this.closedWith = why;
    this.sock.destroy();
    const pending = this.pending;
    this.pending = null;
    if (pending === null) return;
    clearTimeout(pending.timer);
    pending.reject(new RespConnectionError(why, true));
  }
}
