// DUMP/RESTORE payloads in Redis's exact format: one value RDB-encoded as
// Redis 7.0 writes it (RDB version 10), then the RDB version (2 bytes) and a
// CRC64 of everything before it (8 bytes), both little endian. The CRC is
// Redis's crc64.c: Jones polynomial, reflected, initial value 0.
//
// RESTORE reads every encoding Redis 7.0 writes or still loads: plain,
// int-encoded and LZF-compressed strings; plain lists, sets, hashes and
// sorted sets (ascii and binary scores); ziplist, listpack, intset, zipmap
// and quicklist (v1 and v2) containers. DUMP writes what Redis 7.0 writes
// for the same value (int-encoded strings, quicklist lists, intset sets,
// listpack hashes and sorted sets when small, plain types otherwise) except
// that it never LZF-compresses, so Redis and Mnemo load each other's dumps.
// Streams and module values are not supported yet.
import { assertNever } from "./assert";
import { formatG17 } from "./digest";
import { hashIsListpack, setIsIntset, zsetIsListpack, type CompactLimits } from "./encoding";
import { parseDouble, parseInt64 } from "./num";
import { HashObject } from "./types/hash";
import { ListObject } from "./types/list";
import { SetObject } from "./types/set";
import { ZSetObject } from "./types/zset";
import type { Value } from "./value";

export const RDB_VERSION = 10;

const T_STRING = 0;
const T_LIST = 1;
const T_SET = 2;
const T_ZSET = 3;
const T_HASH = 4;
const T_ZSET_2 = 5;
const T_HASH_ZIPMAP = 9;
const T_LIST_ZIPLIST = 10;
const T_SET_INTSET = 11;
const T_ZSET_ZIPLIST = 12;
const T_HASH_ZIPLIST = 13;
const T_LIST_QUICKLIST = 14;
const T_HASH_LISTPACK = 16;
const T_ZSET_LISTPACK = 17;
const T_LIST_QUICKLIST_2 = 18;

const ENC_INT8 = 0;
const ENC_INT16 = 1;
const ENC_INT32 = 2;
const ENC_LZF = 3;

const QL_CONTAINER_PLAIN = 1;
const QL_CONTAINER_PACKED = 2;
/** Elements this large get a quicklist node of their own (Redis's packed_threshold). */
const QL_PACKED_THRESHOLD = 1 << 30;
/** quicklist.c's optimization_level: node byte limits for fill -1 .. -5. */
const QL_SIZE_LIMITS = [4096, 8192, 16384, 32768, 65536];
const QL_SIZE_SAFETY_LIMIT = 8192;
const QL_SIZE_ESTIMATE_OVERHEAD = 8;
/** An LZF stream cannot expand more than this (a 3-byte back reference yields 264 bytes). */
const LZF_EXPANSION_MAX = 100;
const LP_NUMELE_UNKNOWN = 65535;

// ---------------------------------------------------------------------------
// CRC64 (Jones), reflected: table over the bit-reversed polynomial
// 0x95ac9329ac4bc9b5, kept as two 32-bit halves to stay in fast integer math.

const CRC_LO = new Uint32Array(256);
const CRC_HI = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let b = 0; b < 8; b++) {
    const lsb = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi = hi >>> 1;
    if (lsb !== 0) {
      lo = (lo ^ 0xac4bc9b5) >>> 0;
      hi = (hi ^ 0x95ac9329) >>> 0;
    }
  }
  CRC_LO[i] = lo;
  CRC_HI[i] = hi;
}

/** Redis's crc64(0, data): crc64(Buffer.from("123456789")) === 0xe9c6d914c4b8d9can. */
export function crc64(data: Uint8Array): bigint {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ (data[i] ?? 0)) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ (CRC_LO[idx] ?? 0)) >>> 0;
    hi = ((hi >>> 8) ^ (CRC_HI[idx] ?? 0)) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

// ---------------------------------------------------------------------------
// Byte writer and reader.

/** A growable byte buffer for RDB encodings. */
export class Writer {
  private buf: Buffer;
  private len = 0;

  constructor(capacity = 64) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  get length(): number {
    return this.len;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b & 0xff;
  }

  latin1(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.write(s, this.len, s.length, "latin1");
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** Little-endian integer of `width` bytes (two's complement for negatives). */
  intLE(v: number | bigint, width: number): void {
    this.ensure(width);
    let x = BigInt.asUintN(width * 8, BigInt(v));
    for (let i = 0; i < width; i++) {
      this.buf[this.len++] = Number(x & 0xffn);
      x >>= 8n;
    }
  }

  u32be(n: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(n >>> 0, this.len);
    this.len += 4;
  }

  f64le(x: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(x, this.len);
    this.len += 8;
  }

  patchU32le(offset: number, n: number): void {
    this.buf.writeUInt32LE(n >>> 0, offset);
  }

  patchU16le(offset: number, n: number): void {
    this.buf.writeUInt16LE(n, offset);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** Thrown inside the decoder only; decodeDumpPayload turns it into "Bad data format". */
class Corrupt extends Error {}

function corrupt(): never {
  throw new Corrupt("corrupt payload");
}

class Reader {
  pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly end: number,
  ) {}

  byte(): number {
    if (this.pos >= this.end) corrupt();
    return this.buf[this.pos++] ?? corrupt();
  }

  take(n: number): Buffer {
    if (n < 0 || n > this.end - this.pos) corrupt();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

// ---------------------------------------------------------------------------
// RDB lengths and strings.

/** An RDB length: 6, 14, 32 or 64 bits. */
export function writeLen(w: Writer, n: number | bigint): void {
  if (typeof n === "number" && n < 64) {
    w.byte(n);
  } else if (typeof n === "number" && n < 16384) {
    w.byte(0x40 | (n >>> 8));
    w.byte(n & 0xff);
  } else if (n <= 0xffffffff) {
    w.byte(0x80);
    w.u32be(Number(n));
  } else {
    const b = BigInt.asUintN(64, BigInt(n));
    w.byte(0x81);
    w.u32be(Number(b >> 32n));
    w.u32be(Number(b & 0xffffffffn));
  }
}

/** Redis's rdbSaveRawString without LZF: small int32 values int-encoded, the rest verbatim. */
export function writeString(w: Writer, s: string): void {
  if (s.length <= 11) {
    const n = parseInt64(s);
    if (typeof n === "number" && n >= -2147483648 && n <= 2147483647) {
      if (n >= -128 && n <= 127) {
        w.byte(0xc0 | ENC_INT8);
        w.intLE(n, 1);
      } else if (n >= -32768 && n <= 32767) {
        w.byte(0xc0 | ENC_INT16);
        w.intLE(n, 2);
      } else {
        w.byte(0xc0 | ENC_INT32);
        w.intLE(n, 4);
      }
      return;
    }
  }
  writeLen(w, s.length);
  w.latin1(s);
}

export function writeBlob(w: Writer, b: Uint8Array): void {
  writeLen(w, b.length);
  w.bytes(b);
}

/** A length, or -(1 + encoding) for the special string encodings. */
function readLenOrEncoding(r: Reader): number {
  const b = r.byte();
  switch (b >> 6) {
    case 0:
      return b & 0x3f;
    case 1:
      return ((b & 0x3f) << 8) | r.byte();
    case 3:
      return -1 - (b & 0x3f);
    default:
      break;
  }
  if (b === 0x80) return r.take(4).readUInt32BE(0);
  if (b === 0x81) {
    const v = r.take(8).readBigUInt64BE(0);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? corrupt() : Number(v);
  }
  return corrupt();
}

function readLen(r: Reader): number {
  const n = readLenOrEncoding(r);
  return n < 0 ? corrupt() : n;
}

/** An RDB string as bytes: verbatim, int-encoded (as its decimal text) or LZF. */
function readBlob(r: Reader): Buffer {
  const n = readLenOrEncoding(r);
  if (n >= 0) return r.take(n);
  switch (-1 - n) {
    case ENC_INT8:
      return Buffer.from(String(r.take(1).readInt8(0)), "latin1");
    case ENC_INT16:
      return Buffer.from(String(r.take(2).readInt16LE(0)), "latin1");
    case ENC_INT32:
      return Buffer.from(String(r.take(4).readInt32LE(0)), "latin1");
    case ENC_LZF: {
      const clen = readLen(r);
      const len = readLen(r);
      if (len > clen * LZF_EXPANSION_MAX) corrupt();
      return lzfDecompress(r.take(clen), len);
    }
    default:
      return corrupt();
  }
}

function readStr(r: Reader): string {
  return readBlob(r).toString("latin1");
}

/** liblzf's lzf_decompress; the output must have exactly `len` bytes. */
export function lzfDecompress(input: Uint8Array, len: number): Buffer {
  const out = Buffer.alloc(len);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++] ?? corrupt();
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > len || ip + run > input.length) corrupt();
      out.set(input.subarray(ip, ip + run), op);
      ip += run;
      op += run;
      continue;
    }
    let ref = op - ((ctrl & 0x1f) << 8) - 1;
    let n = ctrl >> 5;
    if (n === 7) n += input[ip++] ?? corrupt();
    ref -= input[ip++] ?? corrupt();
    n += 2;
    if (op + n > len || ref < 0) corrupt();
    for (let i = 0; i < n; i++) out[op++] = out[ref++] ?? 0;
  }
  if (op !== len) corrupt();
  return out;
}

// ---------------------------------------------------------------------------
// Containers: listpack (write and read), ziplist, intset, zipmap (read).

function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** A listpack as Redis's lpAppend / lpAppendInteger build it. */
export class ListpackBuilder {
  private readonly w = new Writer(64);
  count = 0;

  constructor() {
    this.w.intLE(0, 4);
    this.w.intLE(0, 2);
  }

  /** Bytes the finished listpack will have (Redis's lpBytes). */
  get bytes(): number {
    return this.w.length + 1;
  }

  /** Appends a string entry, integer-encoded when it is the canonical text of an int64. */
  add(s: string): void {
    const start = this.w.length;
    const n = parseInt64(s);
    if (n !== null) this.writeInt(n);
    else this.writeStr(s);
    this.writeBacklen(this.w.length - start);
    this.count++;
  }

  /** Appends an integer entry. */
  addInt(v: number | bigint): void {
    const start = this.w.length;
    this.writeInt(v);
    this.writeBacklen(this.w.length - start);
    this.count++;
  }

  private writeInt(v: number | bigint): void {
    listpackInt(this.w, v);
  }

  private writeStr(s: string): void {
    const w = this.w;
    const len = s.length;
    if (len < 64) {
      w.byte(0x80 | len);
    } else if (len < 4096) {
      w.byte(0xe0 | (len >> 8));
      w.byte(len & 0xff);
    } else {
      w.byte(0xf0);
      w.intLE(len, 4);
    }
    w.latin1(s);
  }

  private writeBacklen(l: number): void {
    const size = backlenSize(l);
    for (let i = size - 1; i >= 0; i--) {
      const chunk = Math.floor(l / 2 ** (7 * i)) & 127;
      // The most significant chunk comes first and alone lacks the continuation bit.
      this.w.byte(chunk | (i === size - 1 ? 0 : 128));
    }
  }

  finish(): Buffer {
    this.w.byte(0xff);
    this.w.patchU32le(0, this.w.length);
    this.w.patchU16le(4, this.count < LP_NUMELE_UNKNOWN ? this.count : LP_NUMELE_UNKNOWN);
    return this.w.result();
  }
}

function listpackOf(items: Iterable<string>): Buffer {
  const lp = new ListpackBuilder();
  for (const s of items) lp.add(s);
  return lp.finish();
}

function need(buf: Buffer, end: number): void {
  if (end > buf.length) corrupt();
}

/** One listpack entry at p: its value and the size of encoding + data. */
function listpackEntry(buf: Buffer, p: number): [string, number] {
  const b = buf[p] ?? corrupt();
  if ((b & 0x80) === 0) return [String(b), 1];
  if ((b & 0xc0) === 0x80) {
    const len = b & 0x3f;
    need(buf, p + 1 + len);
    return [buf.toString("latin1", p + 1, p + 1 + len), 1 + len];
  }
  if ((b & 0xe0) === 0xc0) {
    need(buf, p + 2);
    const u = ((b & 0x1f) << 8) | (buf[p + 1] ?? 0);
    return [String(u >= 1 << 12 ? u - (1 << 13) : u), 2];
  }
  if ((b & 0xf0) === 0xe0) {
    need(buf, p + 2);
    const len = ((b & 0x0f) << 8) | (buf[p + 1] ?? 0);
    need(buf, p + 2 + len);
    return [buf.toString("latin1", p + 2, p + 2 + len), 2 + len];
  }
  switch (b) {
    case 0xf0: {
      need(buf, p + 5);
      const len = buf.readUInt32LE(p + 1);
      need(buf, p + 5 + len);
      return [buf.toString("latin1", p + 5, p + 5 + len), 5 + len];
    }
    case 0xf1:
      need(buf, p + 3);
      return [String(buf.readInt16LE(p + 1)), 3];
    case 0xf2:
      need(buf, p + 4);
      return [String(buf.readIntLE(p + 1, 3)), 4];
    case 0xf3:
      need(buf, p + 5);
      return [String(buf.readInt32LE(p + 1)), 5];
    case 0xf4:
      need(buf, p + 9);
      return [buf.readBigInt64LE(p + 1).toString(), 9];
    default:
      return corrupt();
  }
}

export function parseListpack(buf: Buffer): string[] {
  if (buf.length < 7 || buf.readUInt32LE(0) !== buf.length) corrupt();
  const declared = buf.readUInt16LE(4);
  const out: string[] = [];
  let p = 6;
  while (buf[p] !== 0xff) {
    const [v, size] = listpackEntry(buf, p);
    out.push(v);
    p += size + backlenSize(size);
    if (p >= buf.length) corrupt();
  }
  if (p !== buf.length - 1) corrupt();
  if (declared !== LP_NUMELE_UNKNOWN && declared !== out.length) corrupt();
  return out;
}

/** One ziplist entry's encoding + data at p (after the prevlen field). */
function ziplistEntry(buf: Buffer, p: number): [string, number] {
  const e = buf[p] ?? corrupt();
  const str = (off: number, len: number): [string, number] => {
    need(buf, p + off + len);
    return [buf.toString("latin1", p + off, p + off + len), off + len];
  };
  switch (e >> 6) {
    case 0:
      return str(1, e & 0x3f);
    case 1:
      need(buf, p + 2);
      return str(2, ((e & 0x3f) << 8) | (buf[p + 1] ?? 0));
    case 2:
      need(buf, p + 5);
      return str(5, buf.readUInt32BE(p + 1));
    default:
      break;
  }
  const int = (width: number, read: () => string): [string, number] => {
    need(buf, p + 1 + width);
    return [read(), 1 + width];
  };
  if (e >= 0xf1 && e <= 0xfd) return [String((e & 0x0f) - 1), 1];
  switch (e) {
    case 0xc0:
      return int(2, () => String(buf.readInt16LE(p + 1)));
    case 0xd0:
      return int(4, () => String(buf.readInt32LE(p + 1)));
    case 0xe0:
      return int(8, () => buf.readBigInt64LE(p + 1).toString());
    case 0xf0:
      return int(3, () => String(buf.readIntLE(p + 1, 3)));
    case 0xfe:
      return int(1, () => String(buf.readInt8(p + 1)));
    default:
      return corrupt();
  }
}

export function parseZiplist(buf: Buffer): string[] {
  if (buf.length < 11 || buf.readUInt32LE(0) !== buf.length) corrupt();
  const declared = buf.readUInt16LE(8);
  const out: string[] = [];
  let p = 10;
  while (buf[p] !== 0xff) {
    const prev = buf[p] ?? corrupt();
    p += prev < 254 ? 1 : 5;
    const [v, size] = ziplistEntry(buf, p);
    out.push(v);
    p += size;
    if (p >= buf.length) corrupt();
  }
  if (p !== buf.length - 1) corrupt();
  if (declared !== 65535 && declared !== out.length) corrupt();
  return out;
}

function parseIntset(buf: Buffer): string[] {
  if (buf.length < 8) corrupt();
  const width = buf.readUInt32LE(0);
  const count = buf.readUInt32LE(4);
  if ((width !== 2 && width !== 4 && width !== 8) || buf.length !== 8 + width * count) corrupt();
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * width;
    out.push(width === 8 ? buf.readBigInt64LE(at).toString() : String(buf.readIntLE(at, width)));
  }
  return out;
}

function intsetOf(members: readonly string[]): Buffer {
  const values = members.map((m) => BigInt(m)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let width = 2;
  for (const v of values) {
    if (v < -32768n || v > 32767n) width = Math.max(width, 4);
    if (v < -2147483648n || v > 2147483647n) width = 8;
  }
  const w = new Writer(8 + width * values.length);
  w.intLE(width, 4);
  w.intLE(values.length, 4);
  for (const v of values) w.intLE(v, width);
  return w.result();
}

/** Redis 2.4's zipmap (hashes in very old dumps): flat field, value, field, value ... */
function parseZipmap(buf: Buffer): string[] {
  const out: string[] = [];
  let p = 1;
  const len = (): number => {
    const b = buf[p] ?? corrupt();
    if (b < 254) {
      p += 1;
      return b;
    }
    if (b !== 254) corrupt();
    need(buf, p + 5);
    const v = buf.readUInt32LE(p + 1);
    p += 5;
    return v;
  };
  while (buf[p] !== 0xff) {
    if (p >= buf.length) corrupt();
    const klen = len();
    need(buf, p + klen);
    out.push(buf.toString("latin1", p, p + klen));
    p += klen;
    const vlen = len();
    const free = buf[p++] ?? corrupt();
    need(buf, p + vlen + free);
    out.push(buf.toString("latin1", p, p + vlen));
    p += vlen + free;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Values.

function parseScore(s: string): number {
  const v = parseDouble(s) ?? parseFloat(s);
  return Number.isNaN(v) ? corrupt() : v;
}

/** The old ascii score format: length byte, or 253/254/255 for nan/+inf/-inf. */
function readAsciiScore(r: Reader): number {
  const len = r.byte();
  if (len === 255) return -Infinity;
  if (len === 254) return Infinity;
  if (len === 253) return corrupt();
  return parseScore(r.take(len).toString("latin1").trim());
}

function listValue(items: readonly string[]): ListObject {
  return items.length === 0 ? corrupt() : ListObject.fromArray(items);
}

function setValue(members: readonly string[]): SetObject {
  const s = SetObject.fromMembers(members);
  return s.length === 0 || s.length !== members.length ? corrupt() : s;
}

function hashValue(flat: readonly string[]): HashObject {
  if (flat.length % 2 !== 0) corrupt();
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] ?? "", flat[i + 1] ?? ""]);
  const h = HashObject.fromEntries(pairs);
  return h.length === 0 || h.length !== pairs.length ? corrupt() : h;
}

function zsetValue(pairs: readonly [string, number][]): ZSetObject {
  const z = ZSetObject.fromEntries(pairs);
  return z.length === 0 || z.length !== pairs.length ? corrupt() : z;
}

function zsetFromFlat(flat: readonly string[]): ZSetObject {
  if (flat.length % 2 !== 0) corrupt();
  const pairs: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] ?? "", parseScore(flat[i + 1] ?? "")]);
  return zsetValue(pairs);
}

function readStrings(r: Reader, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(readStr(r));
  return out;
}

function readZset(r: Reader, binary: boolean): ZSetObject {
  const n = readLen(r);
  const pairs: [string, number][] = [];
  for (let i = 0; i < n; i++) {
    const m = readStr(r);
    const score = binary ? r.take(8).readDoubleLE(0) : readAsciiScore(r);
    if (Number.isNaN(score)) corrupt();
    pairs.push([m, score]);
  }
  return zsetValue(pairs);
}

function readQuicklist(r: Reader, v2: boolean): ListObject {
  const nodes = readLen(r);
  const items: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const container = v2 ? readLen(r) : QL_CONTAINER_PACKED;
    if (container !== QL_CONTAINER_PLAIN && container !== QL_CONTAINER_PACKED) corrupt();
    const blob = readBlob(r);
    if (blob.length === 0) corrupt();
    if (container === QL_CONTAINER_PLAIN) {
      items.push(blob.toString("latin1"));
      continue;
    }
    for (const e of v2 ? parseListpack(blob) : parseZiplist(blob)) items.push(e);
  }
  return listValue(items);
}

function readValue(type: number, r: Reader): Value {
  switch (type) {
    case T_STRING:
      return readStr(r);
    case T_LIST:
      return listValue(readStrings(r, readLen(r)));
    case T_SET:
      return setValue(readStrings(r, readLen(r)));
    case T_ZSET:
    case T_ZSET_2:
      return readZset(r, type === T_ZSET_2);
    case T_HASH:
      return hashValue(readStrings(r, readLen(r) * 2));
    case T_LIST_QUICKLIST:
    case T_LIST_QUICKLIST_2:
      return readQuicklist(r, type === T_LIST_QUICKLIST_2);
    case T_HASH_ZIPMAP:
      return hashValue(parseZipmap(readBlob(r)));
    case T_LIST_ZIPLIST:
      return listValue(parseZiplist(readBlob(r)));
    case T_SET_INTSET:
      return setValue(parseIntset(readBlob(r)));
    case T_ZSET_ZIPLIST:
      return zsetFromFlat(parseZiplist(readBlob(r)));
    case T_ZSET_LISTPACK:
      return zsetFromFlat(parseListpack(readBlob(r)));
    case T_HASH_ZIPLIST:
      return hashValue(parseZiplist(readBlob(r)));
    case T_HASH_LISTPACK:
      return hashValue(parseListpack(readBlob(r)));
    default:
      return corrupt();
  }
}

/** (double)(LLONG_MAX / 2): Redis's double2ll only converts integral doubles within this bound. */
const DOUBLE2LL_MAX = 4611686018427387904;

/**
 * A score as zzlInsertAt stores it in a listpack: integral values within
 * +-2^62 as integers (so -0 becomes 0), others as d2string text (%.17g).
 */
function listpackScore(x: number): string {
  if (Number.isInteger(x) && x >= -DOUBLE2LL_MAX && x <= DOUBLE2LL_MAX) return BigInt(x).toString();
  return formatG17(x);
}

/** Appends to a quicklist node unless Redis's _quicklistNodeAllowInsert would start a new one. */
function nodeAllowsInsert(nodeBytes: number, count: number, elementBytes: number, fill: number): boolean {
  const newBytes = nodeBytes + elementBytes + QL_SIZE_ESTIMATE_OVERHEAD;
  if (fill < 0) {
    const limit = QL_SIZE_LIMITS[-fill - 1];
    if (limit !== undefined && newBytes <= limit) return true;
  }
  if (newBytes > QL_SIZE_SAFETY_LIMIT) return false;
  return count < fill;
}

function writeQuicklist(w: Writer, items: readonly string[], fill: number): void {
  const nodes: [number, Buffer][] = [];
  let lp: ListpackBuilder | null = null;
  const flush = (): void => {
    if (lp !== null) nodes.push([QL_CONTAINER_PACKED, lp.finish()]);
    lp = null;
  };
  for (const s of items) {
    if (s.length >= QL_PACKED_THRESHOLD) {
      flush();
      nodes.push([QL_CONTAINER_PLAIN, Buffer.from(s, "latin1")]);
      continue;
    }
    if (lp !== null && !nodeAllowsInsert(lp.bytes, lp.count, s.length, fill)) flush();
    lp ??= new ListpackBuilder();
    lp.add(s);
  }
  flush();
  writeLen(w, nodes.length);
  for (const [container, data] of nodes) {
    writeLen(w, container);
    writeBlob(w, data);
  }
}

/** The type byte and RDB encoding of `v`, as Redis 7.0's rdbSaveObjectType + rdbSaveObject. */
function writeObject(w: Writer, v: Exclude<Value, { kind: "stream" }>, limits: CompactLimits): void {
  if (typeof v === "string") {
    w.byte(T_STRING);
    writeString(w, v);
    return;
  }
  switch (v.kind) {
    case "list":
      w.byte(T_LIST_QUICKLIST_2);
      writeQuicklist(w, v.toArray(), limits.listFill);
      return;
    case "set":
      writeSet(w, v.toArray(), limits);
      return;
    case "zset":
      writeZset(w, v.entries(), limits);
      return;
    case "hash":
      writeHash(w, v.entries(), limits);
      return;
    default:
      assertNever(v, "value kind");
  }
}

function writeSet(w: Writer, members: readonly string[], limits: CompactLimits): void {
  if (setIsIntset(members, limits)) {
    w.byte(T_SET_INTSET);
    writeBlob(w, intsetOf(members));
    return;
  }
  w.byte(T_SET);
  writeLen(w, members.length);
  for (const m of members) writeString(w, m);
}

function writeZset(w: Writer, entries: readonly [string, number][], limits: CompactLimits): void {
  if (zsetIsListpack(entries, limits)) {
    const lp = new ListpackBuilder();
    for (const [m, score] of entries) {
      lp.add(m);
      lp.add(listpackScore(score));
    }
    w.byte(T_ZSET_LISTPACK);
    writeBlob(w, lp.finish());
    return;
  }
  // Highest score first, as Redis writes skiplists (so that loading appends at the head).
  w.byte(T_ZSET_2);
  writeLen(w, entries.length);
  for (let i = entries.length - 1; i >= 0; i--) {
    const [m, score] = entries[i] ?? corrupt();
    writeString(w, m);
    w.f64le(score);
  }
}

function writeHash(w: Writer, entries: readonly [string, string][], limits: CompactLimits): void {
  if (hashIsListpack(entries, limits)) {
    w.byte(T_HASH_LISTPACK);
    writeBlob(w, listpackOf(entries.flat()));
    return;
  }
  w.byte(T_HASH);
  writeLen(w, entries.length);
  for (const [f, val] of entries) {
    writeString(w, f);
    writeString(w, val);
  }
}

// ---------------------------------------------------------------------------
// Payloads.

/** DUMP's payload for `v`, or null for a value type DUMP cannot serialize yet (streams). */
export function createDumpPayload(v: Value, limits: CompactLimits): Buffer | null {
  if (typeof v !== "string" && v.kind === "stream") return null;
  const w = new Writer();
  writeObject(w, v, limits);
  w.intLE(RDB_VERSION, 2);
  w.intLE(crc64(w.result()), 8);
  return w.result();
}

/** Redis's verifyDumpPayload: a footer, an RDB version we read, and a matching CRC. */
export function verifyDumpPayload(p: Buffer): boolean {
  if (p.length < 10) return false;
  const version = p.readUInt16LE(p.length - 10);
  if (version > RDB_VERSION) return false;
  return crc64(p.subarray(0, p.length - 8)) === p.readBigUInt64LE(p.length - 8);
}

export type DecodeResult = { readonly ok: true; readonly value: Value } | { readonly ok: false; readonly error: "checksum" | "format" };

/** RESTORE's decoding: a verified payload to a fresh value. */
export function decodeDumpPayload(p: Buffer): DecodeResult {
  if (!verifyDumpPayload(p)) return { ok: false, error: "checksum" };
  const r = new Reader(p, p.length - 10);
  try {
    const type = r.byte();
    return { ok: true, value: readValue(type, r) };
  } catch (e) {
    if (e instanceof Corrupt || e instanceof RangeError) return { ok: false, error: "format" };
    throw e;
  }
}

/**
 * One RDB-encoded value of `type` at `pos` in `buf` (for readers of whole RDB
 * files): the value and the offset just after it, or null when malformed.
 */
export function decodeRdbValue(type: number, buf: Buffer, pos: number): { value: Value; next: number } | null {
  return decodeAt(buf, pos, (r) => readValue(type, r));
}

/** One RDB string (plain, int-encoded or LZF) at `pos`, or null when malformed. */
export function decodeRdbString(buf: Buffer, pos: number): { value: string; next: number } | null {
  return decodeAt(buf, pos, readStr);
}

function decodeAt<T>(buf: Buffer, pos: number, read: (r: Reader) => T): { value: T; next: number } | null {
  const r = new Reader(buf, buf.length);
  r.pos = pos;
  try {
    const value = read(r);
    return { value, next: r.pos };
  } catch (e) {
    if (e instanceof Corrupt || e instanceof RangeError) return null;
    throw e;
  }
}

/** A listpack integer entry's encoding and value (without its backlen), the smallest that fits. */
function listpackInt(w: Writer, v: number | bigint): void {
  const n = typeof v === "bigint" && v >= -2147483648n && v <= 2147483647n ? Number(v) : v;
  if (typeof n === "number" && n >= 0 && n <= 127) {
    w.byte(n);
  } else if (typeof n === "number" && n >= -4096 && n <= 4095) {
    const u = n < 0 ? 8192 + n : n;
    w.byte((u >> 8) | 0xc0);
    w.byte(u & 0xff);
  } else if (typeof n === "number" && n >= -32768 && n <= 32767) {
    w.byte(0xf1);
    w.intLE(n, 2);
  } else if (typeof n === "number" && n >= -8388608 && n <= 8388607) {
    w.byte(0xf2);
    w.intLE(n, 3);
  } else if (typeof n === "number" && n >= -2147483648 && n <= 2147483647) {
    w.byte(0xf3);
    w.intLE(n, 4);
  } else {
    w.byte(0xf4);
    w.intLE(n, 8);
  }
}
