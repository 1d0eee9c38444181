// One RESP2 request on a fresh connection, for the CLI's health checks
// (`mnemo up` waiting for a primary, `mnemo status`). Not a client library:
// it parses the reply types a server sends in RESP2 and gives up after a deadline.
import * as net from "node:net";

export type RespValue = string | number | null | RespError | RespValue[];

export class RespError {
  constructor(readonly message: string) {}
}

/** Parses one reply from buf at offset; null when more bytes are needed. */
export function parseReply(buf: Buffer, offset = 0): { value: RespValue; end: number } | null {
  const nl = buf.indexOf("\r\n", offset);
  if (nl < 0) return null;
  const line = buf.toString("latin1", offset + 1, nl);
  const next = nl + 2;
  switch (buf[offset]) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new RespError(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString("latin1", next, next + n), end: next + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, at);
        if (r === null) return null;
        items.push(r.value);
        at = r.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new Error(`unexpected reply byte ${String(buf[offset])}`);
  }
}

export function encodeRequest(argv: readonly string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${Buffer.byteLength(a, "latin1")}\r\n${a}\r\n`;
  return Buffer.from(s, "latin1");
}

export function respCall(host: string, port: number, argv: readonly string[], timeoutMs = 1000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const done = (e: Error | null, v?: RespValue): void => {
      clearTimeout(timer);
      sock.destroy();
      if (e !== null) reject(e);
      else resolve(v ?? null);
    };
    const timer = setTimeout(() => done(new Error(`${host}:${port}: no reply within ${timeoutMs} ms`)), timeoutMs);
    sock.on("connect", () => sock.write(encodeRequest(argv)));
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      try {
        const r = parseReply(buf);
        if (r !== null) done(null, r.value);
      } catch (e) {
        done(e instanceof Error ? e : new Error(String(e)));
      }
    });
    sock.on("error", (e) => done(e));
    sock.on("close", () => done(new Error(`${host}:${port}: connection closed`)));
  });
}

/** INFO text as a field map. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}
