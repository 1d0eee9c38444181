// Bitmap commands (Redis's bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP.
// Bits are numbered from the most significant bit of byte 0, like Redis.
import { err, int, ONE, ZERO, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseInt64 } from "../num";
import { clampRange, stringBytesMax } from "./string";

const ERR_BIT_ARG = err("ERR The bit argument must be 1 or 0.");
const ERR_BITOP_NOT = err("ERR BITOP NOT must be called with a single source key.");
const MINUS_ONE = int(-1);

/** Set bits in each byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + (POPCOUNT[i >> 1] ?? 0);

/**
 * A bit offset argument (getBitOffsetFromArgument): a non-negative int64 whose
 * byte lies within proto-max-bulk-len. With `bits` > 0 (BITFIELD), "#N" means N * bits.
 */
export function parseBitOffset(ctx: Ctx, arg: string, bits = 0): number | Reply {
  const hash = bits > 0 && arg.charCodeAt(0) === 35;
  const n = parseInt64(hash ? arg.slice(1) : arg);
  if (n === null || typeof n === "bigint") return E.bitOffset;
  const offset = hash ? n * bits : n;
  if (offset < 0 || Math.floor(offset / 8) >= stringBytesMax(ctx)) return E.bitOffset;
  return offset;
}

/** Below this many bytes a plain loop beats copying into a Buffer. */
const POPCOUNT_WORDS_MIN_BYTES = 256;

/** Set bits in bytes [from, to) of a latin1 string. */
function popcount(s: string, from: number, to: number): number {
  if (to - from >= POPCOUNT_WORDS_MIN_BYTES) return popcountBuffer(Buffer.from(s.slice(from, to), "latin1"));
  let n = 0;
  for (let i = from; i < to; i++) n += POPCOUNT[s.charCodeAt(i)] ?? 0;
  return n;
}

/** Set bits in a buffer, 32 bits at a time (SWAR) over its aligned middle. */
function popcountBuffer(b: Buffer): number {
  const head = Math.min(b.length, (4 - (b.byteOffset & 3)) & 3);
  const words = (b.length - head) >> 2;
  let n = 0;
  for (let i = 0; i < head; i++) n += POPCOUNT[b[i] ?? 0] ?? 0;
  const w = new Uint32Array(b.buffer, b.byteOffset + head, words);
  for (let k = 0; k < words; k++) {
    let v = w[k] ?? 0;
    v = v - ((v >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
  }
  for (let i = head + words * 4; i < b.length; i++) n += POPCOUNT[b[i] ?? 0] ?? 0;
  return n;
}

/** Set bits in the inclusive bit range [lo, hi]. */
function popcountBits(s: string, lo: number, hi: number): number {
  const first = Math.floor(lo / 8);
  const last = Math.floor(hi / 8);
  let n = popcount(s, first, last + 1);
  // Take back the bits of the edge bytes that lie outside the range.
  const before = (0xff00 >> (lo % 8)) & 0xff;
  const after = (1 << (7 - (hi % 8))) - 1;
  n -= POPCOUNT[s.charCodeAt(first) & before] ?? 0;
  n -= POPCOUNT[s.charCodeAt(last) & after] ?? 0;
  return n;
}

/** The first bit equal to `want` in the inclusive bit range [lo, hi], or -1. */
function findBit(s: string, want: number, lo: number, hi: number): number {
  const skip = want === 1 ? 0 : 0xff;
  let bit = lo;
  while (bit <= hi) {
    const b = s.charCodeAt(Math.floor(bit / 8));
    const inByte = bit % 8;
    if (inByte === 0 && bit + 7 <= hi && b === skip) {
      bit += 8;
      continue;
    }
    if (((b >> (7 - inByte)) & 1) === want) return bit;
    bit++;
  }
  return -1;
}

/** "BIT" -> true, "BYTE" -> false, anything else -> null (syntax error). */
function parseUnit(arg: string | undefined): boolean | null {
  const u = (arg ?? "").toLowerCase();
  return u === "bit" ? true : u === "byte" ? false : null;
}

function setbit(ctx: Ctx, argv: string[]): Reply {
  const offset = parseBitOffset(ctx, argv[2] ?? "");
  if (typeof offset !== "number") return offset;
  const on = argv[3];
  if (on !== "0" && on !== "1") return E.bitValue;
  const key = argv[1] ?? "";
  const v = ctx.lookupWrite(key);
  if (v !== undefined && typeof v !== "string") return E.wrongType;
  const s = v ?? "";
  const byte = Math.floor(offset / 8);
  const mask = 1 << (7 - (offset % 8));
  const old = byte < s.length ? s.charCodeAt(byte) : 0;
  const was = old & mask ? 1 : 0;
  const grows = v === undefined || byte >= s.length;
  // Redis counts a change only when the key is created, grows, or the bit flips.
  if (grows || was !== (on === "1" ? 1 : 0)) {
    const next = on === "1" ? old | mask : old & ~mask;
    const tail = byte + 1 < s.length ? s.slice(byte + 1) : "";
    const head = byte <= s.length ? s.slice(0, byte) : s + "\0".repeat(byte - s.length);
    ctx.setKey(key, head + String.fromCharCode(next) + tail, true);
    ctx.dirty++;
  }
  return was ? ONE : ZERO;
}

function getbit(ctx: Ctx, argv: string[]): Reply {
  const offset = parseBitOffset(ctx, argv[2] ?? "");
  if (typeof offset !== "number") return offset;
  const v = ctx.lookupRead(argv[1] ?? "");
  if (v === undefined) return ZERO;
  if (typeof v !== "string") return E.wrongType;
  const byte = Math.floor(offset / 8);
  if (byte >= v.length) return ZERO;
  return (v.charCodeAt(byte) >> (7 - (offset % 8))) & 1 ? ONE : ZERO;
}

/** BITCOUNT key [start end [BYTE|BIT]] */
function bitcount(ctx: Ctx, argv: string[]): Reply {
  const v = ctx.lookupRead(argv[1] ?? "");
  if (v === undefined) return ZERO;
  if (typeof v !== "string") return E.wrongType;
  if (argv.length === 2) return int(popcount(v, 0, v.length));
  if (argv.length !== 4 && argv.length !== 5) return E.syntax;
  const start = parseInt64(argv[2] ?? "");
  if (start === null) return E.notInteger;
  const end = parseInt64(argv[3] ?? "");
  if (end === null) return E.notInteger;
  if (start < 0 && end < 0 && start > end) return ZERO;
  const isBit = argv.length === 5 ? parseUnit(argv[4]) : false;
  if (isBit === null) return E.syntax;
  const r = clampRange(start, end, isBit ? v.length * 8 : v.length);
  if (r === null) return ZERO;
  return int(isBit ? popcountBits(v, r[0], r[1]) : popcount(v, r[0], r[1] + 1));
}

/** BITPOS key bit [start [end [BYTE|BIT]]] */
function bitpos(ctx: Ctx, argv: string[]): Reply {
  const want = parseInt64(argv[2] ?? "");
  if (want === null) return E.notInteger;
  if (want !== 0 && want !== 1) return ERR_BIT_ARG;
  const v = ctx.lookupRead(argv[1] ?? "");
  // A missing key is an endless run of zeros.
  if (v === undefined) return want === 1 ? MINUS_ONE : ZERO;
  if (typeof v !== "string") return E.wrongType;
  let isBit = false;
  let range: [number, number] | null = v.length === 0 ? null : [0, v.length - 1];
  const endGiven = argv.length >= 5;
  if (argv.length >= 4 && argv.length <= 6) {
    const start = parseInt64(argv[3] ?? "");
    if (start === null) return E.notInteger;
    if (argv.length === 6) {
      const unit = parseUnit(argv[5]);
      if (unit === null) return E.syntax;
      isBit = unit;
    }
    const end = endGiven ? parseInt64(argv[4] ?? "") : v.length - 1;
    if (end === null) return E.notInteger;
    range = clampBitposRange(start, end, isBit ? v.length * 8 : v.length);
  } else if (argv.length !== 3) {
    return E.syntax;
  }
  if (range === null) return MINUS_ONE;
  const lo = isBit ? range[0] : range[0] * 8;
  const hi = isBit ? range[1] : range[1] * 8 + 7;
  const pos = findBit(v, want, lo, hi);
  if (pos >= 0) return int(pos);
  // Looking for a 0 with no explicit end: the string continues with zeros.
  return want === 1 || endGiven ? MINUS_ONE : int(hi + 1);
}

/** BITPOS clamps like GETRANGE but without the "both negative, start > end" shortcut. */
function clampBitposRange(start: number | bigint, end: number | bigint, len: number): [number, number] | null {
  let s = Number(start);
  let e = Number(end);
  if (s < 0) s += len;
  if (e < 0) e += len;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= len) e = len - 1;
  return s > e ? null : [s, e];
}

type BitOp = "and" | "or" | "xor" | "not";

function parseBitOp(name: string): BitOp | null {
  const op = name.toLowerCase();
  return op === "and" || op === "or" || op === "xor" || op === "not" ? op : null;
}

/** Folds `src` into `out` (which already holds the first source). */
function foldBytes(out: Buffer, src: Buffer, op: BitOp): void {
  const n = Math.min(src.length, out.length);
  switch (op) {
    case "and":
      for (let i = 0; i < n; i++) out[i] = (out[i] ?? 0) & (src[i] ?? 0);
      // A shorter source is zero-padded.
      out.fill(0, n);
      return;
    case "or":
      for (let i = 0; i < n; i++) out[i] = (out[i] ?? 0) | (src[i] ?? 0);
      return;
    case "xor":
      for (let i = 0; i < n; i++) out[i] = (out[i] ?? 0) ^ (src[i] ?? 0);
      return;
    case "not":
      return;
    default: {
      const never: never = op;
      throw new Error(`unknown bit op ${String(never)}`);
    }
  }
}

/** BITOP op destkey key [key ...]: stores the result (or deletes destkey when empty). */
function bitop(ctx: Ctx, argv: string[]): Reply {
  const op = parseBitOp(argv[1] ?? "");
  if (op === null) return E.syntax;
  if (op === "not" && argv.length !== 4) return ERR_BITOP_NOT;
  const sources: string[] = [];
  let maxLen = 0;
  for (let i = 3; i < argv.length; i++) {
    const v = ctx.lookupRead(argv[i] ?? "");
    if (v !== undefined && typeof v !== "string") return E.wrongType;
    const s = v ?? "";
    sources.push(s);
    if (s.length > maxLen) maxLen = s.length;
  }
  const dest = argv[2] ?? "";
  if (maxLen === 0) {
    if (ctx.deleteKey(dest)) ctx.dirty++;
    return ZERO;
  }
  const out = Buffer.alloc(maxLen);
  out.write(sources[0] ?? "", 0, "latin1");
  if (op === "not") {
    for (let i = 0; i < maxLen; i++) out[i] = ~(out[i] ?? 0) & 0xff;
  } else {
    for (let k = 1; k < sources.length; k++) foldBytes(out, Buffer.from(sources[k] ?? "", "latin1"), op);
  }
  ctx.setKey(dest, out.toString("latin1"));
  ctx.dirty++;
  return int(maxLen);
}

export const BITOPS_COMMANDS: readonly CommandSpec[] = [
  { name: "setbit", arity: 4, flags: ["write", "denyoom"], keys: [1, 1, 1], group: "bitmap", run: setbit },
  { name: "getbit", arity: 3, flags: ["readonly", "fast"], keys: [1, 1, 1], group: "bitmap", run: getbit },
  { name: "bitcount", arity: -2, flags: ["readonly"], keys: [1, 1, 1], group: "bitmap", run: bitcount },
  { name: "bitpos", arity: -3, flags: ["readonly"], keys: [1, 1, 1], group: "bitmap", run: bitpos },
  { name: "bitop", arity: -4, flags: ["write", "denyoom"], keys: [2, -1, 1], group: "bitmap", run: bitop },
];
