// The dataset digest (DEBUG DIGEST) and the per-value digest (DEBUG
// DIGEST-VALUE), built like Redis's debug.c: SHA1-based, XOR-combined where
// order does not matter (keys, set members, hash fields, sorted-set members)
// and chained where it does (list elements).
//
// digestValue() gives exactly what Redis 7.0 answers for DEBUG DIGEST-VALUE
// (an expire only adds a marker). The dataset digest also mixes in each key's
// absolute expire time, so two engines agree only if their TTLs agree too:
// that is what replica-equivalence checks need. For the same reason it mixes
// in a stream's metadata and consumer groups (last ID, counters, groups,
// PELs with delivery times and counts, consumers), which Redis's digest
// leaves out; a consumer's seen-time is access metadata (like LRU) and is not
// part of it.
//
// datasetChecksum() is the same accumulation over the same parts with a fast
// non-cryptographic 160-bit hash (hash160.ts) in place of SHA-1: what a
// snapshot records and checks after loading, where only Mnemo compares it.
import { assertNever } from "./assert";
import type { Db } from "./db";
import { Hash160 } from "./hash160";
import { SHA1_BYTES, Sha1 } from "./sha1";
import { formatId, MAX_ID, MIN_ID, type StreamObject } from "./types/stream";
import type { Value } from "./value";

const EXPIRE_MARKER = "!!expire!!";

/** Redis's OBJ_* type codes, hashed big-endian as the first thing of every value. */
const TYPE_CODES = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 } as const;
const TYPE_BYTES: Record<keyof typeof TYPE_CODES, Uint8Array> = {
  string: uint32be(TYPE_CODES.string),
  list: uint32be(TYPE_CODES.list),
  set: uint32be(TYPE_CODES.set),
  zset: uint32be(TYPE_CODES.zset),
  hash: uint32be(TYPE_CODES.hash),
  stream: uint32be(TYPE_CODES.stream),
};

function uint32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

/** What the accumulation needs of a hash: Sha1 (DEBUG DIGEST) or Hash160 (the checksum). */
interface Hasher {
  hashLatin1(s: string): Hasher;
  hashBytes(bytes: Uint8Array, start?: number, end?: number): Hasher;
  writeTo(out: Uint8Array, offset?: number): void;
  xorInto(out: Uint8Array, offset?: number): void;
}

// A digest hashes millions of tiny inputs: shared hashers and reused scratch
// digests keep it allocation-free. Nothing here is re-entered.
const sha = new Sha1();
const fast = new Hash160();
/** One key's digest inside accumulate. */
const keyScratch = new Uint8Array(SHA1_BYTES);
/** One field/value or member/score pair's digest inside pairDigest. */
const pairScratch = new Uint8Array(SHA1_BYTES);

function hashOf(h: Hasher, data: string | Uint8Array): Hasher {
  return typeof data === "string" ? h.hashLatin1(data) : h.hashBytes(data);
}

/** digest ^= H(data): order-independent accumulation. */
function xorDigest(h: Hasher, digest: Uint8Array, data: string | Uint8Array): void {
  hashOf(h, data).xorInto(digest);
}

/** digest = H(digest ^ H(data)): order-dependent accumulation. */
function mixDigest(h: Hasher, digest: Uint8Array, data: string | Uint8Array): void {
  hashOf(h, data).xorInto(digest);
  h.hashBytes(digest, 0, SHA1_BYTES).writeTo(digest);
}

const scoreScratch = new Float64Array(1);
const scoreScratchBytes = new Uint8Array(scoreScratch.buffer);

/** The score's IEEE 754 bytes (in a shared scratch array: hash them before the next call); as exact as %.17g and much cheaper. */
function scoreBytes(score: number): Uint8Array {
  scoreScratch[0] = score;
  return scoreScratchBytes;
}

function pairDigest(h: Hasher, digest: Uint8Array, a: string, b: string | Uint8Array): void {
  const ele = pairScratch.fill(0);
  mixDigest(h, ele, a);
  mixDigest(h, ele, b);
  xorDigest(h, digest, ele);
}

/** How a sorted-set score is hashed: as printf's %.17g prints it (DEBUG DIGEST, like Redis), or its 8 bytes (the checksum). */
type ScoreForm = (score: number) => string | Uint8Array;

/** Redis's xorObjectDigest: the type, the value, and a marker when the key has a TTL. */
function mixValue(h: Hasher, score: ScoreForm, digest: Uint8Array, v: Value, hasExpire: boolean): void {
  const kind = typeof v === "string" ? "string" : v.kind;
  mixDigest(h, digest, TYPE_BYTES[kind]);
  if (typeof v === "string") {
    mixDigest(h, digest, v);
  } else {
    switch (v.kind) {
      case "list":
        for (const e of v.toArray()) mixDigest(h, digest, e);
        break;
      case "set":
        for (const m of v.toArray()) xorDigest(h, digest, m);
        break;
      case "zset":
        for (const [m, s] of v.entries()) pairDigest(h, digest, m, score(s));
        break;
      case "hash":
        for (const [f, val] of v.entries()) pairDigest(h, digest, f, val);
        break;
      case "stream":
        mixStreamEntries(h, digest, v);
        break;
      default:
        assertNever(v, "value kind");
    }
  }
  if (hasExpire) xorDigest(h, digest, EXPIRE_MARKER);
}

/** Redis's stream digest: each live entry's "ms.seq", then its fields and values. */
function mixStreamEntries(h: Hasher, digest: Uint8Array, s: StreamObject): void {
  s.scan(MIN_ID, MAX_ID, false, (e) => {
    mixDigest(h, digest, `${e.id.ms}.${e.id.seq}`);
    for (let i = 0; i < e.values.length; i++) {
      mixDigest(h, digest, e.fields[i] ?? "");
      mixDigest(h, digest, e.values[i] ?? "");
    }
    return true;
  });
}

/** What replicas must also agree on: stream counters and consumer groups, in name order. */
function mixStreamMeta(h: Hasher, digest: Uint8Array, s: StreamObject): void {
  for (const x of [formatId(s.lastId), formatId(s.firstId), formatId(s.maxDeletedId), String(s.entriesAdded), String(s.length)]) mixDigest(h, digest, x);
  for (const g of s.groupList()) {
    mixDigest(h, digest, g.name);
    mixDigest(h, digest, formatId(g.lastId));
    mixDigest(h, digest, String(g.entriesRead));
    g.pel.forEach((id, nack) => {
      mixDigest(h, digest, formatId(id));
      mixDigest(h, digest, nack.consumer?.name ?? "");
      mixDigest(h, digest, `${nack.deliveryTime}:${nack.deliveryCount}`);
    });
    for (const c of g.consumerList()) {
      mixDigest(h, digest, c.name);
      mixDigest(h, digest, String(c.pel.size));
    }
  }
}

/** DEBUG DIGEST-VALUE: 40 hex chars. */
export function digestValue(v: Value, expireAtMs?: number): string {
  const d = Buffer.alloc(SHA1_BYTES);
  mixValue(sha, formatG17, d, v, expireAtMs !== undefined);
  return d.toString("hex");
}

/**
 * DEBUG DIGEST over every db: 40 hex chars, all zeros for an empty dataset.
 * Independent of key order; depends on each key's db, name, type, value and
 * absolute expire time.
 */
export function datasetDigest(dbs: readonly Db[]): string {
  return accumulate(sha, formatG17, dbs);
}

/**
 * datasetDigest's accumulation with Hash160 instead of SHA-1 (about three
 * times faster): the same 40 hex chars, zeros for an empty dataset, and the
 * same independence of order and dependence on every part of every key.
 */
export function datasetChecksum(dbs: readonly Db[]): string {
  return accumulate(fast, scoreBytes, dbs);
}

function accumulate(h: Hasher, score: ScoreForm, dbs: readonly Db[]): string {
  const final = Buffer.alloc(SHA1_BYTES);
  for (const db of dbs) {
    if (db.data.size === 0) continue;
    mixDigest(h, final, uint32be(db.id));
    for (const [key, v] of db.data) {
      const d = keyScratch.fill(0);
      mixDigest(h, d, key);
      const at = db.expires.get(key);
      mixValue(h, score, d, v, at !== undefined);
      if (typeof v !== "string" && v.kind === "stream") mixStreamMeta(h, d, v);
      if (at !== undefined) mixDigest(h, d, `expireat:${at}`);
      xorDigest(h, final, d);
    }
  }
  return final.toString("hex");
}

/**
 * C's printf("%.17g", x) as glibc prints it (Redis formats scores this way in
 * digests and in listpack-encoded sorted sets): 17 significant digits,
 * correctly rounded with ties to even, trailing zeros dropped, exponent form
 * below 1e-4 or from 1e17.
 */
export function formatG17(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const sign = x < 0 ? "-" : "";
  const [digits, exp] = significant17(Math.abs(x));
  if (exp < -4 || exp >= 17) {
    const frac = stripZeros(digits.slice(1));
    const e = Math.abs(exp);
    return `${sign}${digits.charAt(0)}${frac === "" ? "" : "." + frac}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
  }
  if (exp >= 0) {
    const frac = stripZeros(digits.slice(exp + 1));
    return `${sign}${digits.slice(0, exp + 1)}${frac === "" ? "" : "." + frac}`;
  }
  return `${sign}0.${stripZeros("0".repeat(-exp - 1) + digits)}`;
}

function stripZeros(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 48) end--;
  return s.slice(0, end);
}

/** The 17 significant digits of a positive finite x and the decimal exponent of the first. */
function significant17(a: number): [string, number] {
  // toExponential rounds halfway cases up, printf to even; a halfway case
  // shows as an 18th digit of 5, and only then is the exact expansion needed.
  const e18 = a.toExponential(17);
  if (e18.charAt(18) !== "5") {
    const e17 = a.toExponential(16);
    const ePos = e17.indexOf("e");
    return [e17.charAt(0) + e17.slice(2, ePos), parseInt(e17.slice(ePos + 1), 10)];
  }
  return exactSignificant17(a);
}

function exactSignificant17(a: number): [string, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mant = biased === 0 ? fraction : fraction | (1n << 52n);
  const e2 = (biased === 0 ? 1 : biased) - 1075;
  let all: string;
  let exp: number;
  if (e2 >= 0) {
    all = (mant << BigInt(e2)).toString();
    exp = all.length - 1;
  } else {
    all = (mant * 5n ** BigInt(-e2)).toString();
    exp = all.length - 1 + e2;
  }
  return roundHalfEven(all, exp);
}

function roundHalfEven(all: string, exp: number): [string, number] {
  const head = all.slice(0, 17).padEnd(17, "0");
  const rest = all.slice(17);
  const first = rest.charCodeAt(0) - 48;
  const tail = rest.slice(1);
  const above = first > 5 || (first === 5 && /[1-9]/.test(tail));
  const tie = first === 5 && !/[1-9]/.test(tail);
  const odd = (head.charCodeAt(16) - 48) % 2 === 1;
  if (!(above || (tie && odd))) return [head, exp];
  const up = (BigInt(head) + 1n).toString();
  return up.length > 17 ? [up.slice(0, 17), exp + 1] : [up, exp];
}
