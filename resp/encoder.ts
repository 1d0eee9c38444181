import "./latin1";
import { formatDouble17g } from "./format";
import type { Reply } from "./reply";

export type Protocol = 2 | 3;

/** Strings up to this long are copied in JS rather than by a native call. */
const SHORT_TEXT_BYTES_MAX = 64;
const BUFFER_BYTES_INITIAL = 16 * 1024;

/**
 * Appends RESP-encoded replies to one growing buffer. A connection encodes all
 * the replies of one event-loop turn here and hands the bytes to its socket once.
 */
export class RespWriter {
  private buf: Buffer = Buffer.allocUnsafe(BUFFER_BYTES_INITIAL);
  private pos = 0;

  get length(): number {
    return this.pos;
  }

  /** Copies out what was written and resets the writer for reuse. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(BUFFER_BYTES_INITIAL);
    return out;
  }

  reset(): void {
    this.pos = 0;
  }

  /**
   * What was written, without copying: valid until the next write or reset.
   * A caller that cannot finish with the bytes now must call `disown` so the
   * writer continues in a fresh buffer.
   */
  peek(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Hands the current buffer to whoever holds a `peek` of it and starts a new one. */
  disown(): void {
    this.buf = Buffer.allocUnsafe(BUFFER_BYTES_INITIAL);
    this.pos = 0;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  private crlf(): void {
    const buf = this.buf;
    buf[this.pos] = 0x0d;
    buf[this.pos + 1] = 0x0a;
    this.pos += 2;
  }

  /** Copies a latin1 string; short ones byte by byte (a native call costs more than the copy). */
  private text(s: string): void {
    const len = s.length;
    if (len <= SHORT_TEXT_BYTES_MAX) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < len; i++) buf[p++] = s.charCodeAt(i);
      this.pos = p;
    } else {
      this.pos += this.buf.latin1Write(s, this.pos);
    }
  }

  /** Writes an ASCII line: prefix byte, text, CRLF. */
  private line(prefix: number, text: string): void {
    this.ensure(text.length + 3);
    this.byte(prefix);
    this.text(text);
    this.crlf();
  }

  private header(prefix: number, n: number): void {
    this.ensure(24);
    this.byte(prefix);
    this.writeIntDigits(n);
    this.crlf();
  }

  private writeIntDigits(n: number): void {
    if (n >= 0 && n < 10) {
      this.buf[this.pos++] = 48 + n;
      return;
    }
    if (Number.isInteger(n) && n > -2147483648 && n < 2147483648) {
      // Digits written in place, last first: no number-to-string conversion.
      const buf = this.buf;
      let v = n;
      if (v < 0) {
        buf[this.pos++] = 45;
        v = -v;
      }
      let digits = 1;
      for (let t = v; t >= 10; t = (t / 10) | 0) digits++;
      let p = this.pos + digits;
      this.pos = p;
      do {
        buf[--p] = 48 + (v % 10);
        v = (v / 10) | 0;
      } while (v > 0);
      return;
    }
    this.text(String(n));
  }

  raw(bytes: Buffer): void {
    this.ensure(bytes.length);
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
  }

  simple(s: string): void {
    this.line(0x2b, s);
  }

  error(message: string): void {
    // An error line may not contain CR or LF; Redis replaces them with spaces.
    this.line(0x2d, /[\r\n]/.test(message) ? message.replace(/[\r\n]/g, " ") : message);
  }

  integer(n: number | bigint): void {
    if (typeof n === "number") this.header(0x3a, n);
    else this.line(0x3a, n.toString());
  }

  bulk(s: string): void {
    const len = s.length;
    this.ensure(len + 24);
    this.byte(0x24);
    this.writeIntDigits(len);
    this.crlf();
    if (len > 0) this.text(s);
    this.crlf();
  }

  nullBulk(proto: Protocol): void {
    this.ensure(5);
    if (proto === 3) {
      this.byte(0x5f);
    } else {
      this.byte(0x24);
      this.byte(0x2d);
      this.byte(0x31);
    }
    this.crlf();
  }

  nullArray(proto: Protocol): void {
    this.ensure(5);
    if (proto === 3) {
      this.byte(0x5f);
    } else {
      this.byte(0x2a);
      this.byte(0x2d);
      this.byte(0x31);
    }
    this.crlf();
  }

  arrayHeader(n: number): void {
    this.header(0x2a, n);
  }

  reply(r: Reply, proto: Protocol): void {
    switch (r.kind) {
      case "simple":
        return this.simple(r.value);
      case "error":
        return this.error(r.message);
      case "int":
        return this.integer(r.value);
      case "bulk":
        return this.bulk(r.value);
      case "null":
        return this.nullBulk(proto);
      case "nullArray":
        return this.nullArray(proto);
      case "array":
        this.arrayHeader(r.items.length);
        for (const item of r.items) this.reply(item, proto);
        return;
      case "bulks":
        this.arrayHeader(r.values.length);
        for (const v of r.values) {
          if (v === null) this.nullBulk(proto);
          else this.bulk(v);
        }
        return;
      case "map":
        this.header(proto === 3 ? 0x25 : 0x2a, proto === 3 ? r.entries.length / 2 : r.entries.length);
        for (const item of r.entries) this.reply(item, proto);
        return;
      case "set":
        this.header(proto === 3 ? 0x7e : 0x2a, r.items.length);
        for (const item of r.items) this.reply(item, proto);
        return;
      case "push":
        this.header(proto === 3 ? 0x3e : 0x2a, r.items.length);
        for (const item of r.items) this.reply(item, proto);
        return;
      case "double":
        if (proto === 3) this.line(0x2c, formatDouble17g(r.value));
        else this.bulk(formatDouble17g(r.value));
        return;
      case "bool":
        if (proto === 3) this.line(0x23, r.value ? "t" : "f");
        else this.integer(r.value ? 1 : 0);
        return;
      case "verbatim":
        if (proto === 3) {
          const body = `${r.format}:${r.value}`;
          this.ensure(body.length + 24);
          this.byte(0x3d);
          this.writeIntDigits(body.length);
          this.crlf();
          this.pos += this.buf.latin1Write(body, this.pos);
          this.crlf();
        } else {
          this.bulk(r.value);
        }
        return;
      case "bignum":
        if (proto === 3) this.line(0x28, r.value);
        else this.bulk(r.value);
        return;
      case "none":
        return;
      default: {
        const never: never = r;
        throw new Error(`unknown reply ${JSON.stringify(never)}`);
      }
    }
  }
}

/** Scratch space for encodeReply: encoding never re-enters itself. */
const scratch = new RespWriter();

/**
 * Encodes one reply to a Buffer of its own (a durable primary's held replies,
 * pushed messages): encoded in a shared scratch writer, then copied out at its
 * exact size, so a small reply costs a small (pooled) allocation.
 */
export function encodeReply(r: Reply, proto: Protocol): Buffer {
  scratch.reset();
  scratch.reply(r, proto);
  return scratch.take();
}
