// BITFIELD and BITFIELD_RO (Redis's bitops.c): integers of 1..64 bits (u63 at
// most) at any bit offset, with WRAP/SAT/FAIL overflow. The arithmetic is done
// in bigint with int64/uint64 wrap-around where Redis's C code wraps, so the
// overflow decisions match Redis's bit for bit.
import { array, err, int, NULL, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseInt64 } from "../num";
import { parseBitOffset } from "./bitops";

const ERR_TYPE = err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
const ERR_OVERFLOW_TYPE = err("ERR Invalid OVERFLOW type specified");
const ERR_RO = err("ERR BITFIELD_RO only supports the GET subcommand");

type Overflow = "wrap" | "sat" | "fail";

interface FieldOp {
  readonly op: "get" | "set" | "incrby";
  readonly signed: boolean;
  readonly bits: number;
  /** Bit offset from the start of the string. */
  readonly offset: number;
  /** SET value or INCRBY increment (int64). */
  readonly value: bigint;
  readonly overflow: Overflow;
}

/** "i1".."i64" or "u1".."u63" (case-sensitive, as Redis). */
function parseType(arg: string): { signed: boolean; bits: number } | null {
  const c = arg.charCodeAt(0);
  if (c !== 105 && c !== 117) return null;
  const bits = parseInt64(arg.slice(1));
  const signed = c === 105;
  if (typeof bits !== "number" || bits < 1 || bits > (signed ? 64 : 63)) return null;
  return { signed, bits };
}

function parseOverflow(arg: string): Overflow | null {
  const o = arg.toLowerCase();
  return o === "wrap" || o === "sat" || o === "fail" ? o : null;
}

/** Parses every subcommand before anything runs, as Redis does. */
function parseOps(ctx: Ctx, argv: string[]): FieldOp[] | Reply {
  const ops: FieldOp[] = [];
  let overflow: Overflow = "wrap";
  for (let j = 2; j < argv.length; j++) {
    const remaining = argv.length - j - 1;
    const sub = (argv[j] ?? "").toLowerCase();
    if (sub === "overflow" && remaining >= 1) {
      const o = parseOverflow(argv[++j] ?? "");
      if (o === null) return ERR_OVERFLOW_TYPE;
      overflow = o;
      continue;
    }
    const op = sub === "get" && remaining >= 2 ? "get" : (sub === "set" || sub === "incrby") && remaining >= 3 ? sub : null;
    if (op === null) return E.syntax;
    const type = parseType(argv[j + 1] ?? "");
    if (type === null) return ERR_TYPE;
    const offset = parseBitOffset(ctx, argv[j + 2] ?? "", type.bits);
    if (typeof offset !== "number") return offset;
    let value = 0n;
    if (op !== "get") {
      const v = parseInt64(argv[j + 3] ?? "");
      if (v === null) return E.notInteger;
      value = BigInt(v);
    }
    ops.push({ op, signed: type.signed, bits: type.bits, offset, value, overflow });
    j += op === "get" ? 2 : 3;
  }
  return ops;
}

/**
 * The bytes of a string value with a writable copy of the span [lo, lo + size)
 * (zero-padded past the string's end); bytes outside it read from the string.
 */
class ByteView {
  readonly buf: Uint8Array;

  constructor(
    readonly s: string,
    readonly lo: number,
    size: number,
  ) {
    this.buf = new Uint8Array(size);
    const end = Math.min(s.length, lo + size);
    for (let i = lo; i < end; i++) this.buf[i - lo] = s.charCodeAt(i);
  }

  get(i: number): number {
    const rel = i - this.lo;
    if (rel >= 0 && rel < this.buf.length) return this.buf[rel] ?? 0;
    return i < this.s.length ? this.s.charCodeAt(i) : 0;
  }

  /** Only called inside the span. */
  set(i: number, byte: number): void {
    this.buf[i - this.lo] = byte;
  }
}

function readBits(view: ByteView, offset: number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i++, offset++) {
    const bit = (view.get(Math.floor(offset / 8)) >> (7 - (offset % 8))) & 1;
    v = (v << 1n) | BigInt(bit);
  }
  return v;
}

/** Writes the low `bits` bits of `value` (two's complement for negatives). */
function writeBits(view: ByteView, offset: number, bits: number, value: bigint): void {
  const u = BigInt.asUintN(bits, value);
  for (let i = 0; i < bits; i++, offset++) {
    const byteIndex = Math.floor(offset / 8);
    const mask = 1 << (7 - (offset % 8));
    const byte = view.get(byteIndex);
    view.set(byteIndex, (u >> BigInt(bits - 1 - i)) & 1n ? byte | mask : byte & ~mask);
  }
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** An integer reply, as a number when it is exact. */
function intReply(v: bigint): Reply {
  return v >= -SAFE && v <= SAFE ? int(Number(v)) : int(v);
}

function readField(view: ByteView, op: FieldOp): bigint {
  const raw = readBits(view, op.offset, op.bits);
  return op.signed ? BigInt.asIntN(op.bits, raw) : raw;
}

interface OverflowCheck {
  /** 0: fits; 1: overflow; -1: underflow. */
  readonly dir: number;
  /** The value to store under WRAP or SAT when dir != 0. */
  readonly limit: bigint;
}

const FITS: OverflowCheck = { dir: 0, limit: 0n };
const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** checkUnsignedBitfieldOverflow: `value` is a uint64, `incr` an int64. */
function checkUnsigned(value: bigint, incr: bigint, bits: number, ow: Overflow): OverflowCheck {
  const max = (1n << BigInt(bits)) - 1n;
  const maxIncr = i64(max - value);
  const minIncr = i64(-value);
  const wrapped = (): bigint => BigInt.asUintN(bits, value + incr);
  if (value > max || (incr > 0n && incr > maxIncr)) return { dir: 1, limit: ow === "sat" ? max : wrapped() };
  if (incr < 0n && incr < minIncr) return { dir: -1, limit: ow === "sat" ? 0n : wrapped() };
  return FITS;
}

/** checkSignedBitfieldOverflow: `value` and `incr` are int64. */
function checkSigned(value: bigint, incr: bigint, bits: number, ow: Overflow): OverflowCheck {
  const max = (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  // Redis computes these in 64-bit arithmetic that may wrap; so do we.
  const maxIncr = i64(max - value);
  const minIncr = i64(min - value);
  const wrapped = (): bigint => BigInt.asIntN(bits, value + incr);
  const narrow = bits !== 64;
  if (value > max || (narrow && incr > maxIncr) || (value >= 0n && incr > 0n && incr > maxIncr)) {
    return { dir: 1, limit: ow === "sat" ? max : wrapped() };
  }
  if (value < min || (narrow && incr < minIncr) || (value < 0n && incr < 0n && incr < minIncr)) {
    return { dir: -1, limit: ow === "sat" ? min : wrapped() };
  }
  return FITS;
}

/** The old value, the value to store and the reply for one SET/INCRBY. */
interface WriteResult {
  readonly old: bigint;
  readonly stored: bigint;
  readonly reply: bigint | null;
}

function applyWrite(op: FieldOp, raw: bigint): WriteResult {
  const old = op.signed ? BigInt.asIntN(op.bits, raw) : raw;
  const incr = op.op === "incrby";
  // For SET the new value is checked as "value + 0"; unsigned takes it as a uint64.
  const base = incr ? old : op.signed ? op.value : BigInt.asUintN(64, op.value);
  const delta = incr ? op.value : 0n;
  const check = op.signed ? checkSigned(base, delta, op.bits, op.overflow) : checkUnsigned(base, delta, op.bits, op.overflow);
  if (check.dir !== 0 && op.overflow === "fail") return { old, stored: old, reply: null };
  const stored = check.dir !== 0 ? check.limit : base + delta;
  return { old, stored, reply: incr ? stored : old };
}

/** The byte span the writes touch, [lo, hi]. */
function writeSpan(ops: readonly FieldOp[]): [number, number] {
  let lo = Infinity;
  let hi = 0;
  for (const op of ops) {
    if (op.op === "get") continue;
    lo = Math.min(lo, Math.floor(op.offset / 8));
    hi = Math.max(hi, Math.floor((op.offset + op.bits - 1) / 8));
  }
  return [lo, hi];
}

function readOnly(ctx: Ctx, key: string, ops: readonly FieldOp[]): Reply {
  const v = ctx.lookupRead(key);
  if (v !== undefined && typeof v !== "string") return E.wrongType;
  const view = new ByteView(v ?? "", 0, 0);
  return array(ops.map((op) => intReply(readField(view, op))));
}

/**
 * Runs the ops on a copy of the bytes the writes touch, then splices it back.
 * The string grows (zero-padded) to hold the farthest write, as Redis's
 * lookupStringForBitCommand does, even when every write fails.
 */
function readWrite(ctx: Ctx, key: string, ops: readonly FieldOp[]): Reply {
  const v = ctx.lookupWrite(key);
  if (v !== undefined && typeof v !== "string") return E.wrongType;
  const s = v ?? "";
  const [lo, hi] = writeSpan(ops);
  const grown = v === undefined || hi >= s.length;
  const view = new ByteView(s, lo, hi - lo + 1);
  const replies: Reply[] = [];
  let changes = 0;
  for (const op of ops) {
    if (op.op === "get") {
      replies.push(intReply(readField(view, op)));
      continue;
    }
    const r = applyWrite(op, readBits(view, op.offset, op.bits));
    if (r.reply === null) {
      replies.push(NULL);
      continue;
    }
    replies.push(intReply(r.reply));
    writeBits(view, op.offset, op.bits, r.stored);
    if (grown || r.old !== r.stored) changes++;
  }
  if (changes > 0 || grown) {
    const middle = Buffer.from(view.buf.buffer, view.buf.byteOffset, view.buf.length).toString("latin1");
    const head = lo <= s.length ? s.slice(0, lo) : s + "\0".repeat(lo - s.length);
    const tail = hi + 1 < s.length ? s.slice(hi + 1) : "";
    ctx.setKey(key, head + middle + tail, true);
    // A growth with every write failed still changed the key: count it so it replicates.
    ctx.dirty += Math.max(changes, 1);
  }
  return array(replies);
}

function bitfieldGeneric(ctx: Ctx, argv: string[], readonlyCommand: boolean): Reply {
  const ops = parseOps(ctx, argv);
  if (!Array.isArray(ops)) return ops;
  const key = argv[1] ?? "";
  if (ops.every((op) => op.op === "get")) return readOnly(ctx, key, ops);
  if (readonlyCommand) return ERR_RO;
  return readWrite(ctx, key, ops);
}

function bitfield(ctx: Ctx, argv: string[]): Reply {
  return bitfieldGeneric(ctx, argv, false);
}

function bitfieldRo(ctx: Ctx, argv: string[]): Reply {
  return bitfieldGeneric(ctx, argv, true);
}

export const BITFIELD_COMMANDS: readonly CommandSpec[] = [
  { name: "bitfield", arity: -2, flags: ["write", "denyoom"], keys: [1, 1, 1], group: "bitmap", run: bitfield },
  { name: "bitfield_ro", arity: -2, flags: ["readonly", "fast"], keys: [1, 1, 1], group: "bitmap", run: bitfieldRo },
];
