// The log service's wire and entry formats, compact and versioned:
//
//   command (client -> log leader)  'C' v | op | shard | fields
//   entry   (a Raft entry's data)   'E' v | proposedAtMs u64 | op | shard | fields
//   reply   (log node -> client)    'R' v | op | outcome | fields
//
// v is FORMAT_VERSION. Integers are fixed-width big-endian (u32, or u64 limited
// to 2^53-1); strings carry a one-byte length and must be canonical UTF-8;
// records carry a u32 length. Every encoding is canonical, so a value has
// exactly one byte string. Decoders validate everything, return garbage as a
// DecodeFailure value and never throw; encoders assert their input is valid.
// A newer version decodes to code "version": the node must stop applying and
// say why, not guess (upgrades go replicas first).
import { assert, AssertionError, assertNever } from "./state/assert";
import { type Decoded, decodeWith, fail, DecodeError, type Reader, readShardId, U64_SAFE_MAX, Writer, writeShardId } from "./state/bytes";
import {
  type Command,
  COMMAND_BYTES_MAX,
  type EntryPayload,
  isShardId,
  LEASE_DURATION_MS_MAX,
  type LeaseView,
  NODE_ID_BYTES_MAX,
  RECORD_BYTES_MAX,
  RECORDS_PER_APPEND_MAX,
  type Reply,
} from "./state/types";

export type { Decoded, DecodeFailure } from "./state/bytes";

export const FORMAT_VERSION = 1;
const MAGIC_COMMAND = 0x43; // 'C'
const MAGIC_ENTRY = 0x45; // 'E'
const MAGIC_REPLY = 0x52; // 'R'
/** Bytes before the op in an entry: magic, version, proposedAtMs. */
const ENTRY_HEADER_BYTES = 10;
/** An entry is its command with the 2-byte header replaced by the 10-byte one. */
const ENTRY_BYTES_MAX = COMMAND_BYTES_MAX + ENTRY_HEADER_BYTES - 2;

const OP = { append: 1, tryTakeLease: 2, renewLease: 3, trim: 4 } as const;

function isCount(x: number, min: number, max = U64_SAFE_MAX): boolean {
  return Number.isSafeInteger(x) && x >= min && x <= max;
}

function nodeIdOk(s: string): boolean {
  const n = Buffer.byteLength(s, "utf8");
  return n >= 1 && n <= NODE_ID_BYTES_MAX && Buffer.from(s, "utf8").toString("utf8") === s;
}

/** The first rule a command breaks, or null. Decoders and encoders share it. */
export function commandProblem(c: Command): string | null {
  if (!isShardId(c.shard)) return `bad shard id ${JSON.stringify(c.shard)}`;
  switch (c.kind) {
    case "append": {
      if (!isCount(c.expectedSeq, 0)) return `bad expectedSeq ${c.expectedSeq}`;
      if (!isCount(c.leaseId, 1)) return `bad leaseId ${c.leaseId}`;
      if (!isCount(c.records.length, 1, RECORDS_PER_APPEND_MAX)) return `append carries ${c.records.length} records (1..${RECORDS_PER_APPEND_MAX})`;
      for (const r of c.records) if (r.length > RECORD_BYTES_MAX) return `record of ${r.length} bytes exceeds ${RECORD_BYTES_MAX}`;
      return null;
    }
    case "tryTakeLease":
      if (!nodeIdOk(c.nodeId)) return `bad nodeId ${JSON.stringify(c.nodeId)}`;
      if (!isCount(c.expectedSeq, 0)) return `bad expectedSeq ${c.expectedSeq}`;
      if (!isCount(c.durationMs, 1, LEASE_DURATION_MS_MAX)) return `durationMs ${c.durationMs} outside 1..${LEASE_DURATION_MS_MAX}`;
      return null;
    case "renewLease":
      return isCount(c.leaseId, 1) ? null : `bad leaseId ${c.leaseId}`;
    case "trim":
      return isCount(c.uptoSeq, 0) ? null : `bad uptoSeq ${c.uptoSeq}`;
    default:
      return assertNever(c, "command");
  }
}

function writeCommandBody(w: Writer, c: Command): void {
  const problem = commandProblem(c);
  if (problem !== null) throw new AssertionError(`encoding an invalid command: ${problem}`);
  w.u8(OP[c.kind]);
  writeShardId(w, c.shard);
  switch (c.kind) {
    case "append":
      w.u64(c.expectedSeq);
      w.u64(c.leaseId);
      w.u32(c.records.length);
      for (const r of c.records) {
        w.u32(r.length);
        w.bytes(r);
      }
      break;
    case "tryTakeLease":
      w.str8(c.nodeId);
      w.u64(c.expectedSeq);
      w.u32(c.durationMs);
      break;
    case "renewLease":
      w.u64(c.leaseId);
      break;
    case "trim":
      w.u64(c.uptoSeq);
      break;
    default:
      assertNever(c, "command");
  }
}

function commandBytesHint(c: Command): number {
  let n = 64;
  if (c.kind === "append") for (const r of c.records) n += 4 + r.length;
  return n;
}

function readRecords(r: Reader): Buffer[] {
  const count = r.u32("record count");
  if (count < 1 || count > RECORDS_PER_APPEND_MAX) fail(`append carries ${count} records (1..${RECORDS_PER_APPEND_MAX})`);
  if (count * 4 > r.remaining()) fail(`truncated: ${count} records cannot fit in ${r.remaining()} bytes`);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const n = r.u32("record length");
    if (n > RECORD_BYTES_MAX) fail(`record of ${n} bytes exceeds ${RECORD_BYTES_MAX}`);
    out.push(r.bytes(n, "record"));
  }
  return out;
}

function readCommandBody(r: Reader): Command {
  const op = r.u8("op");
  if (op < OP.append || op > OP.trim) fail(`unknown command op ${op}`);
  const shard = readShardId(r);
  let c: Command;
  switch (op) {
    case OP.append: {
      const expectedSeq = r.u64("expectedSeq");
      const leaseId = r.u64("leaseId");
      c = { kind: "append", shard, expectedSeq, leaseId, records: readRecords(r) };
      break;
    }
    case OP.tryTakeLease: {
      const nodeId = r.str8("nodeId", 1);
      const expectedSeq = r.u64("expectedSeq");
      c = { kind: "tryTakeLease", shard, nodeId, expectedSeq, durationMs: r.u32("durationMs") };
      break;
    }
    case OP.renewLease:
      c = { kind: "renewLease", shard, leaseId: r.u64("leaseId") };
      break;
    case OP.trim:
      c = { kind: "trim", shard, uptoSeq: r.u64("uptoSeq") };
      break;
    default:
      return fail(`unknown command op ${op}`);
  }
  const problem = commandProblem(c);
  if (problem !== null) fail(problem);
  return c;
}

function readHeader(r: Reader, magic: number, what: string): void {
  const m = r.u8("magic");
  if (m !== magic) fail(`not a ${what} (first byte 0x${m.toString(16).padStart(2, "0")})`);
  const v = r.u8("version");
  if (v > FORMAT_VERSION) throw new DecodeError("version", `format version ${v} is newer than this node understands (${FORMAT_VERSION})`);
  if (v !== FORMAT_VERSION) fail(`unknown format version ${v}`);
}

function tooBig(what: string, data: Uint8Array, max: number): Decoded<never> | null {
  if (data.length <= max) return null;
  return { ok: false, error: { code: "malformed", message: `${what}: ${data.length} bytes exceeds ${max}` } };
}

export function encodeCommand(c: Command): Buffer {
  const w = new Writer(commandBytesHint(c));
  w.u8(MAGIC_COMMAND);
  w.u8(FORMAT_VERSION);
  writeCommandBody(w, c);
  if (!(w.length() <= COMMAND_BYTES_MAX)) throw new AssertionError(`command of ${w.length()} bytes exceeds ${COMMAND_BYTES_MAX}`);
  return w.finish();
}

export function decodeCommand(data: Uint8Array): Decoded<Command> {
  return (
    tooBig("command", data, COMMAND_BYTES_MAX) ??
    decodeWith("command", data, (r) => {
      readHeader(r, MAGIC_COMMAND, "command");
      return readCommandBody(r);
    })
  );
}

export function encodeEntry(p: EntryPayload): Buffer {
  const w = new Writer(commandBytesHint(p.command) + ENTRY_HEADER_BYTES);
  w.u8(MAGIC_ENTRY);
  w.u8(FORMAT_VERSION);
  w.u64(p.proposedAtMs);
  writeCommandBody(w, p.command);
  if (!(w.length() <= ENTRY_BYTES_MAX)) throw new AssertionError(`entry of ${w.length()} bytes exceeds ${ENTRY_BYTES_MAX}`);
  return w.finish();
}

export function decodeEntry(data: Uint8Array): Decoded<EntryPayload> {
  return (
    tooBig("entry", data, ENTRY_BYTES_MAX) ??
    decodeWith("entry", data, (r) => {
      readHeader(r, MAGIC_ENTRY, "log entry");
      const proposedAtMs = r.u64("proposedAtMs");
      return { proposedAtMs, command: readCommandBody(r) };
    })
  );
}

/**
 * The log leader's proposal step: validate a client's command bytes and stamp
 * them with its monotonic clock, without re-encoding the records.
 */
export function stampCommand(commandBytes: Uint8Array, proposedAtMs: number): Decoded<Buffer> {
  if (!isCount(proposedAtMs, 0)) throw new AssertionError(`bad proposedAtMs ${proposedAtMs}`);
  const d = decodeCommand(commandBytes);
  if (!d.ok) return d;
  const out = Buffer.allocUnsafe(commandBytes.length - 2 + ENTRY_HEADER_BYTES);
  out[0] = MAGIC_ENTRY;
  out[1] = FORMAT_VERSION;
  out.writeUInt32BE(Math.floor(proposedAtMs / 0x100000000), 2);
  out.writeUInt32BE(proposedAtMs >>> 0, 6);
  out.set(commandBytes.subarray(2), ENTRY_HEADER_BYTES);
  return { ok: true, value: out };
}

// Replies. Outcome codes are per op.
const OUTCOME = {
  append: { ok: 1, conflict: 2, leaseMismatch: 3 },
  tryTakeLease: { granted: 1, "lease-live": 2, behind: 3, "shard-limit": 4 },
  renewLease: { ok: 1, leaseMismatch: 2 },
  trim: { ok: 1 },
} as const;

function writeLeaseView(w: Writer, v: LeaseView): void {
  w.str8(v.holder);
  w.u64(v.leaseId);
  w.u64(v.epoch);
}

function writeLeaseOpt(w: Writer, v: LeaseView | null): void {
  w.u8(v === null ? 0 : 1);
  if (v !== null) writeLeaseView(w, v);
}

function readLeaseView(r: Reader): LeaseView {
  const holder = r.str8("lease holder", 1);
  const leaseId = r.u64("leaseId");
  const epoch = r.u64("epoch");
  if (leaseId < 1 || epoch < 1) fail("lease id and epoch start at 1");
  return { holder, leaseId, epoch };
}

function readLeaseOpt(r: Reader): LeaseView | null {
  const has = r.u8("lease presence");
  if (has > 1) fail(`bad lease presence byte ${has}`);
  return has === 1 ? readLeaseView(r) : null;
}

/** The first rule a reply breaks, or null. */
export function replyProblem(rep: Reply): string | null {
  const lease = (v: LeaseView | null): boolean => v === null || (nodeIdOk(v.holder) && isCount(v.leaseId, 1) && isCount(v.epoch, 1));
  switch (rep.op) {
    case "append": {
      const x = rep.result;
      if (x.kind === "ok") return isCount(x.lastSeq, 1) ? null : "bad lastSeq";
      if (x.kind === "conflict") return isCount(x.tip, 0) ? null : "bad tip";
      return lease(x.current) ? null : "bad lease";
    }
    case "tryTakeLease": {
      const x = rep.result;
      if (x.kind === "granted") return isCount(x.leaseId, 1) && isCount(x.epoch, 1) ? null : "bad grant";
      if (x.reason === "lease-live") return lease(x.holder) && isCount(x.remainingMs, 1, LEASE_DURATION_MS_MAX) ? null : "bad live lease";
      if (x.reason === "behind") return isCount(x.tip, 0) ? null : "bad tip";
      return null;
    }
    case "renewLease":
      return rep.result.kind === "ok" || lease(rep.result.current) ? null : "bad lease";
    case "trim":
      return isCount(rep.result.trimPoint, 1) ? null : "bad trimPoint";
    default:
      return assertNever(rep, "reply");
  }
}

function writeReplyBody(w: Writer, rep: Reply): void {
  w.u8(OP[rep.op]);
  switch (rep.op) {
    case "append": {
      const x = rep.result;
      w.u8(OUTCOME.append[x.kind]);
      if (x.kind === "ok") w.u64(x.lastSeq);
      else if (x.kind === "conflict") w.u64(x.tip);
      else writeLeaseOpt(w, x.current);
      break;
    }
    case "tryTakeLease": {
      const x = rep.result;
      w.u8(x.kind === "granted" ? OUTCOME.tryTakeLease.granted : OUTCOME.tryTakeLease[x.reason]);
      if (x.kind === "granted") {
        w.u64(x.leaseId);
        w.u64(x.epoch);
      } else if (x.reason === "lease-live") {
        writeLeaseView(w, x.holder);
        w.u32(x.remainingMs);
      } else if (x.reason === "behind") w.u64(x.tip);
      break;
    }
    case "renewLease":
      w.u8(OUTCOME.renewLease[rep.result.kind]);
      if (rep.result.kind === "leaseMismatch") writeLeaseOpt(w, rep.result.current);
      break;
    case "trim":
      w.u8(OUTCOME.trim.ok);
      w.u64(rep.result.trimPoint);
      break;
    default:
      assertNever(rep, "reply");
  }
}

export function encodeReply(rep: Reply): Buffer {
  const problem = replyProblem(rep);
  if (problem !== null) throw new AssertionError(`encoding an invalid reply: ${problem}`);
  const w = new Writer(64);
  w.u8(MAGIC_REPLY);
  w.u8(FORMAT_VERSION);
  writeReplyBody(w, rep);
  return w.finish();
}

function readAppendReply(r: Reader, outcome: number): Reply {
  const o = OUTCOME.append;
  if (outcome === o.ok) return { op: "append", result: { kind: "ok", lastSeq: r.u64("lastSeq") } };
  if (outcome === o.conflict) return { op: "append", result: { kind: "conflict", tip: r.u64("tip") } };
  if (outcome === o.leaseMismatch) return { op: "append", result: { kind: "leaseMismatch", current: readLeaseOpt(r) } };
  return fail(`unknown append outcome ${outcome}`);
}

function readTakeLeaseReply(r: Reader, outcome: number): Reply {
  const o = OUTCOME.tryTakeLease;
  if (outcome === o.granted) {
    const leaseId = r.u64("leaseId");
    return { op: "tryTakeLease", result: { kind: "granted", leaseId, epoch: r.u64("epoch") } };
  }
  if (outcome === o["lease-live"]) {
    const holder = readLeaseView(r);
    return { op: "tryTakeLease", result: { kind: "conflict", reason: "lease-live", holder, remainingMs: r.u32("remainingMs") } };
  }
  if (outcome === o.behind) return { op: "tryTakeLease", result: { kind: "conflict", reason: "behind", tip: r.u64("tip") } };
  if (outcome === o["shard-limit"]) return { op: "tryTakeLease", result: { kind: "conflict", reason: "shard-limit" } };
  return fail(`unknown tryTakeLease outcome ${outcome}`);
}

function readReplyBody(r: Reader): Reply {
  const op = r.u8("op");
  const outcome = r.u8("outcome");
  let rep: Reply;
  if (op === OP.append) rep = readAppendReply(r, outcome);
  else if (op === OP.tryTakeLease) rep = readTakeLeaseReply(r, outcome);
  else if (op === OP.renewLease) {
    if (outcome === OUTCOME.renewLease.ok) rep = { op: "renewLease", result: { kind: "ok" } };
    else if (outcome === OUTCOME.renewLease.leaseMismatch) rep = { op: "renewLease", result: { kind: "leaseMismatch", current: readLeaseOpt(r) } };
    else return fail(`unknown renewLease outcome ${outcome}`);
  } else if (op === OP.trim) {
    if (outcome !== OUTCOME.trim.ok) fail(`unknown trim outcome ${outcome}`);
    rep = { op: "trim", result: { kind: "ok", trimPoint: r.u64("trimPoint") } };
  } else return fail(`unknown reply op ${op}`);
  const problem = replyProblem(rep);
  if (problem !== null) fail(problem);
  return rep;
}

export function decodeReply(data: Uint8Array): Decoded<Reply> {
  return decodeWith("reply", data, (r) => {
    readHeader(r, MAGIC_REPLY, "reply");
    return readReplyBody(r);
  });
}
