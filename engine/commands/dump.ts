// DUMP and RESTORE (Redis's cluster.c), with payloads in Redis's own format
// (see ../rdb.ts) so values move between Redis and Mnemo in both directions.
//
// RESTORE's effect is canonical: `RESTORE key <abs ms or 0> payload REPLACE
// ABSTTL`, which replays identically whatever the key held; a TTL already in
// the past deletes instead (`DEL key` if a key was replaced, else nothing).
//
// Streams are encoded here (see "Stream payloads" below) in Redis 7.0's
// RDB_TYPE_STREAM_LISTPACKS_2 (19); RESTORE also reads the
// RDB_TYPE_STREAM_LISTPACKS (15) of Redis 5 to 6.2.
import { bulk, err, NULL, OK, type Reply } from "../../resp/reply";
import { AssertionError } from "../assert";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { compactLimits, isLfuPolicy, resetMeta, setFreq, setIdle } from "../encoding";
import { E } from "../errors";
import { parseInt64 } from "../num";
import { crc64, createDumpPayload, decodeDumpPayload, decodeRdbString, parseListpack, RDB_VERSION, verifyDumpPayload, Writer, ListpackBuilder, writeBlob, writeLen, writeString, type DecodeResult } from "../rdb";
import {
  addDelta,
  canonInt,
  cmpId,
  FLAG_DELETED,
  FLAG_SAMEFIELDS,
  idFromBytes,
  idToBytes,
  MIN_ID,
  Nack,
  StreamEntry,
  StreamNode,
  StreamObject,
  type ConsumerGroup,
  type StreamID,
  type U64,
} from "../types/stream";
import { formatMs } from "./expire";

const BUSY_KEY = err("BUSYKEY Target key name already exists.");
const BAD_FORMAT = err("ERR Bad data format");
const BAD_CHECKSUM = err("ERR DUMP payload version or checksum are wrong");
const LFU_FREQ_MAX = 255;

function dump(ctx: Ctx, argv: string[]): Reply {
  const v = ctx.lookupRead(argv[1] ?? "");
  if (v === undefined) return NULL;
  const payload = v instanceof StreamObject ? streamDumpPayload(v) : createDumpPayload(v, compactLimits(ctx.engine.config));
  return payload === null ? BAD_FORMAT : bulk(payload.toString("latin1"));
}

interface RestoreOptions {
  replace: boolean;
  absttl: boolean;
  /** Seconds, or -1 when not given. */
  idle: number;
  /** LFU counter, or -1 when not given. */
  freq: number;
}

function parseRestoreOptions(argv: string[]): RestoreOptions | Reply {
  const o: RestoreOptions = { replace: false, absttl: false, idle: -1, freq: -1 };
  for (let j = 4; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    const hasArg = j + 1 < argv.length;
    if (opt === "replace") {
      o.replace = true;
    } else if (opt === "absttl") {
      o.absttl = true;
    } else if (opt === "idletime" && hasArg && o.freq === -1) {
      const n = parseInt64(argv[++j] ?? "");
      if (n === null) return E.notInteger;
      if (n < 0) return err("ERR Invalid IDLETIME value, must be >= 0");
      o.idle = Number(n);
    } else if (opt === "freq" && hasArg && o.idle === -1) {
      const n = parseInt64(argv[++j] ?? "");
      if (n === null) return E.notInteger;
      if (n < 0 || n > LFU_FREQ_MAX) return err("ERR Invalid FREQ value, must be >= 0 and <= 255");
      o.freq = Number(n);
    } else {
      return E.syntax;
    }
  }
  return o;
}

/** Redis's objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME otherwise. */
function setAccessMeta(ctx: Ctx, key: string, o: RestoreOptions): void {
  resetMeta(ctx.db, key, ctx.now);
  if (isLfuPolicy(ctx.engine.config)) {
    if (o.freq >= 0) setFreq(ctx.db, key, o.freq, ctx.now);
  } else if (o.idle >= 0) {
    setIdle(ctx.db, key, o.idle, ctx.now);
  }
}

function restore(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const payload = argv[3] ?? "";
  const o = parseRestoreOptions(argv);
  if ("kind" in o) return o;
  if (!o.replace && ctx.lookupWrite(key) !== undefined) return BUSY_KEY;
  const ttlArg = parseInt64(argv[2] ?? "");
  if (ttlArg === null) return E.notInteger;
  if (ttlArg < 0) return err("ERR Invalid TTL value, must be >= 0");
  const raw = Buffer.from(payload, "latin1");
  const decoded = isStreamPayload(raw) ? decodeStreamPayload(raw) : decodeDumpPayload(raw);
  if (!decoded.ok) return decoded.error === "checksum" ? BAD_CHECKSUM : BAD_FORMAT;
  let deleted = false;
  if (o.replace) deleted = ctx.deleteKey(key);
  let expireAt = Number(ttlArg);
  if (expireAt !== 0 && !o.absttl) expireAt += ctx.now;
  if (expireAt !== 0 && ctx.isPast(expireAt)) {
    if (deleted) {
      ctx.dirty++;
      ctx.emit(["DEL", key]);
    }
    return OK;
  }
  ctx.setKey(key, decoded.value);
  if (expireAt !== 0) ctx.setExpire(key, expireAt);
  setAccessMeta(ctx, key, o);
  ctx.dirty++;
  ctx.emit(["RESTORE", key, expireAt === 0 ? "0" : formatMs(expireAt), payload, "REPLACE", "ABSTTL"]);
  return OK;
}

export const DUMP_COMMANDS: readonly CommandSpec[] = [
  { name: "dump", arity: 2, flags: ["readonly"], keys: [1, 1, 1], group: "generic", since: "2.6.0", summary: "Return a serialized version of the value stored at the specified key.", run: dump },
  {
    name: "restore",
    arity: -4,
    flags: ["write", "denyoom"],
    keys: [1, 1, 1],
    effects: "explicit",
    group: "generic",
    since: "2.6.0",
    summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
    run: restore,
  },
];

// ---------------------------------------------------------------------------
// Stream payloads, as Redis 7.0's rdbSaveObject writes a stream: its nodes
// (the 16-byte big-endian master ID, then the node's listpack), its counters,
// then each consumer group in name order (name, last ID, entries_read, the
// PEL with delivery times and counts, the consumers with their seen-time and
// pending IDs). Listpacks are written uncompressed; LZF ones are read.

const T_STREAM_LISTPACKS = 15;
const T_STREAM_LISTPACKS_2 = 19;
const ID_BYTES = 16;
const FOOTER_BYTES = 10;


/** The listpack of one stream node, byte for byte as Redis keeps it. */
function nodeListpack(node: StreamNode): Buffer {
  const lp = new ListpackBuilder();
  lp.addInt(node.live);
  lp.addInt(node.deleted);
  lp.addInt(node.masterFields.length);
  for (const f of node.masterFields) lp.add(f);
  lp.addInt(0);
  for (const e of node.entries) {
    const same = e.fields === node.masterFields;
    const n = e.values.length;
    lp.addInt((e.deleted ? FLAG_DELETED : 0) | (same ? FLAG_SAMEFIELDS : 0));
    lp.addInt(BigInt.asIntN(64, BigInt(e.id.ms) - BigInt(node.master.ms)));
    lp.addInt(BigInt.asIntN(64, BigInt(e.id.seq) - BigInt(node.master.seq)));
    if (!same) lp.addInt(n);
    for (let i = 0; i < n; i++) {
      if (!same) lp.add(e.fields[i] ?? "");
      lp.add(e.values[i] ?? "");
    }
    lp.addInt(same ? n + 3 : 2 * n + 4);
  }
  return lp.finish();
}

function rawId(w: Writer, id: StreamID): void {
  const b = Buffer.alloc(ID_BYTES);
  idToBytes(id, b, 0);
  w.bytes(b);
}

function writeGroup(w: Writer, g: ConsumerGroup): void {
  writeString(w, g.name);
  writeLen(w, g.lastId.ms);
  writeLen(w, g.lastId.seq);
  writeLen(w, BigInt.asUintN(64, BigInt(g.entriesRead)));
  writeLen(w, g.pel.size);
  g.pel.forEach((id, nack) => {
    rawId(w, id);
    w.intLE(nack.deliveryTime, 8);
    writeLen(w, nack.deliveryCount);
  });
  const consumers = g.consumerList();
  writeLen(w, consumers.length);
  for (const c of consumers) {
    writeString(w, c.name);
    w.intLE(c.seenTime, 8);
    writeLen(w, c.pel.size);
    c.pel.forEach((id) => rawId(w, id));
  }
}

/** DUMP's payload for a stream: type 19, the value, RDB version and CRC64. */
export function streamDumpPayload(s: StreamObject): Buffer {
  const w = new Writer();
  w.byte(T_STREAM_LISTPACKS_2);
  writeLen(w, s.nodes.length);
  const key = Buffer.alloc(ID_BYTES);
  for (const node of s.nodes) {
    idToBytes(node.master, key, 0);
    writeBlob(w, key);
    writeBlob(w, nodeListpack(node));
  }
  writeLen(w, s.length);
  for (const id of [s.lastId, s.firstId, s.maxDeletedId]) {
    writeLen(w, id.ms);
    writeLen(w, id.seq);
  }
  writeLen(w, s.entriesAdded);
  const groups = s.groupList();
  writeLen(w, groups.length);
  for (const g of groups) writeGroup(w, g);
  w.intLE(RDB_VERSION, 2);
  w.intLE(crc64(w.result()), 8);
  return w.result();
}

/** Thrown while decoding a malformed stream payload. */
class BadStream extends Error {}

function bad(): never {
  throw new BadStream("bad stream payload");
}

class In {
  pos = 0;

  constructor(
    readonly buf: Buffer,
    readonly end: number,
  ) {}

  byte(): number {
    if (this.pos >= this.end) bad();
    return this.buf[this.pos++] ?? bad();
  }

  take(n: number): Buffer {
    if (n > this.end - this.pos) bad();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** An RDB length, up to 64 bits. */
  len(): U64 {
    const b = this.byte();
    switch (b >> 6) {
      case 0:
        return b & 0x3f;
      case 1:
        return ((b & 0x3f) << 8) | this.byte();
      default:
        break;
    }
    if (b === 0x80) return this.take(4).readUInt32BE(0);
    if (b === 0x81) return canonInt(this.take(8).readBigUInt64BE(0));
    return bad();
  }

  /** A length that must be a count we can hold. */
  count(): number {
    const n = this.len();
    return typeof n === "number" ? n : bad();
  }

  id(): StreamID {
    return { ms: this.len(), seq: this.len() };
  }

  str(): string {
    const r = decodeRdbString(this.buf, this.pos);
    if (r === null || r.next > this.end) bad();
    this.pos = r.next;
    return r.value;
  }

  ms(): number {
    return Number(this.take(8).readBigInt64LE(0));
  }

  rawId(): StreamID {
    return idFromBytes(this.take(ID_BYTES), 0);
  }
}

function lpInt(els: readonly string[], i: number): bigint {
  const s = els[i];
  if (s === undefined || parseInt64(s) === null) bad();
  return BigInt(s);
}

function lpCount(els: readonly string[], i: number): number {
  const n = lpInt(els, i);
  return n < 0n || n > 0xffffffffn ? bad() : Number(n);
}

/** One node from its listpack elements, checking the structure Redis validates. */
function nodeFromListpack(master: StreamID, els: readonly string[], prev: StreamID | null): StreamNode {
  const live = lpCount(els, 0);
  const deleted = lpCount(els, 1);
  const nf = lpCount(els, 2);
  let p = 3;
  const masterFields = els.slice(p, p + nf);
  p += nf;
  if (masterFields.length !== nf || lpInt(els, p++) !== 0n || live + deleted === 0) bad();
  const node = new StreamNode(master, masterFields);
  let last = prev;
  for (let k = 0; k < live + deleted; k++) {
    const flags = lpInt(els, p++);
    if (flags < 0n || flags > 3n) bad();
    const id: StreamID = { ms: addDelta(master.ms, lpInt(els, p++)), seq: addDelta(master.seq, lpInt(els, p++)) };
    if (last !== null && cmpId(id, last) <= 0) bad();
    last = id;
    const same = (flags & BigInt(FLAG_SAMEFIELDS)) !== 0n;
    const n = same ? nf : lpCount(els, p++);
    const fields: string[] = [];
    const values: string[] = [];
    for (let i = 0; i < n; i++) {
      if (!same) fields.push(els[p++] ?? bad());
      values.push(els[p++] ?? bad());
    }
    if (lpInt(els, p++) !== BigInt(same ? n + 3 : 2 * n + 4)) bad();
    node.push(new StreamEntry(id, same ? masterFields : fields, values, (flags & BigInt(FLAG_DELETED)) !== 0n));
  }
  if (p !== els.length || node.live !== live || node.deleted !== deleted) bad();
  return node;
}

function readNodes(r: In, s: StreamObject): number {
  let live = 0;
  let prev: StreamID | null = null;
  for (let n = r.count(); n > 0; n--) {
    const key = Buffer.from(r.str(), "latin1");
    if (key.length !== ID_BYTES) bad();
    const node = nodeFromListpack(idFromBytes(key, 0), parseListpack(Buffer.from(r.str(), "latin1")), prev);
    prev = node.lastId;
    live += node.live;
    s.nodes.push(node);
  }
  return live;
}

function readGroup(r: In, s: StreamObject, v2: boolean): void {
  const name = r.str();
  const lastId = r.id();
  const entriesRead = v2 ? canonInt(BigInt.asIntN(64, BigInt(r.len()))) : s.estimateDistance(lastId);
  const g = s.createGroup(name, lastId, entriesRead);
  if (g === null) bad();
  for (let n = r.count(); n > 0; n--) {
    const id = r.rawId();
    const nack = new Nack(r.ms(), r.len(), null);
    if (!g.pel.set(id, nack)) bad();
  }
  for (let n = r.count(); n > 0; n--) {
    const c = g.createConsumer(r.str(), 0);
    if (c === null) bad();
    c.seenTime = r.ms();
    for (let k = r.count(); k > 0; k--) {
      const id = r.rawId();
      const nack = g.pel.get(id);
      if (nack === undefined || nack.consumer !== null) bad();
      nack.consumer = c;
      c.pel.set(id, nack);
    }
  }
  g.pel.forEach((_, nack) => {
    if (nack.consumer === null) bad();
  });
}

function readStream(r: In, type: number): StreamObject {
  const s = new StreamObject();
  const live = readNodes(r, s);
  const length = r.count();
  if (length !== live) bad();
  s.setLength(length);
  s.lastId = r.id();
  if (type === T_STREAM_LISTPACKS_2) {
    s.firstId = r.id();
    s.maxDeletedId = r.id();
    s.entriesAdded = r.len();
  } else {
    s.firstId = length === 0 ? MIN_ID : s.edgeId(true, true);
    s.entriesAdded = length;
  }
  for (let n = r.count(); n > 0; n--) readGroup(r, s, type === T_STREAM_LISTPACKS_2);
  if (r.pos !== r.end) bad();
  return s;
}

/** True when p is a well-formed DUMP payload holding a stream. */
export function isStreamPayload(p: Buffer): boolean {
  return p.length > FOOTER_BYTES && (p[0] === T_STREAM_LISTPACKS_2 || p[0] === T_STREAM_LISTPACKS) && verifyDumpPayload(p);
}

/** RESTORE's decoding of a stream payload (type 15 or 19). */
export function decodeStreamPayload(p: Buffer): DecodeResult {
  if (!verifyDumpPayload(p)) return { ok: false, error: "checksum" };
  const r = new In(p, p.length - FOOTER_BYTES);
  try {
    const type = r.byte();
    return { ok: true, value: readStream(r, type) };
  } catch (e) {
    if (e instanceof Error && !(e instanceof AssertionError)) return { ok: false, error: "format" };
    throw e;
  }
}
