// Stream commands (Redis 7.0's t_stream.c): XADD XRANGE XREVRANGE XLEN XDEL
// XTRIM XREAD XREADGROUP XGROUP XSETID XACK XPENDING XCLAIM XAUTOCLAIM XINFO.
//
// Effects are deterministic, as Redis's replication stream makes them:
// - XADD with `*` or `<ms>-*` becomes XADD with the chosen ID; approximate
//   trimming (`~`) becomes the exact trim actually applied (`MAXLEN = <len>`
//   / `MINID = <first id>`), and LIMIT is dropped, so a replica trims the same;
// - XREADGROUP becomes, per delivered (or re-delivered) entry,
//   `XCLAIM key group consumer 0 id TIME <ms> RETRYCOUNT <n> FORCE JUSTID LASTID <id>`,
//   then `XGROUP SETID key group <last id> ENTRIESREAD <n>` when the group
//   moved on (with NOACK only the SETID); a consumer created without any
//   XCLAIM to create it is sent as `XGROUP CREATECONSUMER`;
// - XCLAIM and XAUTOCLAIM become the same XCLAIM form with absolute times;
// - the others are verbatim.
// Time comes from ctx.now only. While applying effects, XCLAIM never clamps
// TIME against the local clock and takes its consumer's seen-time from TIME.
import { array, bulk, bulks, EMPTY_ARRAY, err, int, map, NULL, NULL_ARRAY, OK, ZERO, type Reply } from "../../resp/reply";
import { assert } from "../assert";
import type { BlockRequest } from "../blocking";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseInt64 } from "../num";
import {
  cmpId,
  decrId,
  ENTRIES_READ_INVALID,
  formatId,
  incrId,
  incrU64,
  isMaxId,
  isZeroId,
  LISTPACK_SIZE_MAX,
  MAX_ID,
  MIN_ID,
  Nack,
  parseStreamId,
  StreamObject,
  U64_MAX,
  type Consumer,
  type ConsumerGroup,
  type Int64,
  type NodeLimits,
  type StreamEntry,
  type StreamID,
  type TrimSpec,
  type U64,
} from "../types/stream";
import { helpReply } from "./server";

const ERR_INVALID_ID = err("ERR Invalid stream ID specified as stream command argument");
const ERR_START_INTERVAL = err("ERR invalid start ID for the interval");
const ERR_END_INTERVAL = err("ERR invalid end ID for the interval");
const ERR_ZERO_ID = err("ERR The ID specified in XADD must be greater than 0-0");
const ERR_EXHAUSTED = err("ERR The stream has exhausted the last possible ID, unable to add more items");
const ERR_NOT_GREATER = err("ERR The ID specified in XADD is equal or smaller than the target stream top item");
const ERR_TOO_LARGE = err("ERR Elements are too large to be stored");
const ERR_STRATEGIES = err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
const ERR_MAXLEN_NEG = err("ERR The MAXLEN argument must be >= 0.");
const ERR_LIMIT_NEG = err("ERR The LIMIT argument must be >= 0.");
const ERR_LIMIT_NO_STRATEGY = err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
const ERR_XTRIM_NO_STRATEGY = err("ERR syntax error, XTRIM must be called with a trimming strategy");
const ERR_LIMIT_NO_APPROX = err("ERR syntax error, LIMIT cannot be used without the special ~ option");
const ERR_BLOCK_TIMEOUT = err("ERR timeout is not an integer or out of range");
const ERR_UNBALANCED = err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
const ERR_GROUP_XREAD = err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
const ERR_NOACK_XREAD = err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
const ERR_MISSING_GROUP = err("ERR Missing GROUP option for XREADGROUP");
const ERR_DOLLAR_GROUP = err(
  "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
);
const ERR_GT_XREAD = err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
const ERR_GROUP_GONE = err("NOGROUP the consumer group this client was blocked on no longer exists");
const ERR_KEY_GONE = err("UNBLOCKED the stream key no longer exists");
const ERR_XGROUP_NOKEY = err(
  "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
);
const ERR_ENTRIESREAD = err("ERR value for ENTRIESREAD must be positive or -1");
const ERR_BUSYGROUP = err("BUSYGROUP Consumer Group name already exists");
const ERR_ENTRIES_ADDED_NEG = err("ERR entries_added must be positive");
const ERR_SETID_MAXDEL = err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
const ERR_SETID_SMALLER = err("ERR The ID specified in XSETID is smaller than the target stream top item");
const ERR_SETID_ADDED = err("ERR The entries_added specified in XSETID is smaller than the target stream length");
const ERR_COUNT_POSITIVE = err("ERR COUNT must be > 0");

/** XREAD's COUNT when a blocked client is served without one (XREAD_BLOCKED_DEFAULT_COUNT). */
const BLOCKED_COUNT_DEFAULT = 1000;
/** XAUTOCLAIM: COUNT at most LONG_MAX / 16; it examines at most COUNT * 10 PEL entries. */
const AUTOCLAIM_COUNT_MAX = 576460752303423487;
const AUTOCLAIM_ATTEMPTS_FACTOR = 10;
const XINFO_FULL_COUNT_DEFAULT = 10;

const K1: readonly [number, number, number] = [1, 1, 1];
const K2: readonly [number, number, number] = [2, 2, 1];

// ---------------------------------------------------------------------------
// Shared helpers

function noGroup(key: string, group: string): Reply {
  return err(`NOGROUP No such key '${key}' or consumer group '${group}'`);
}

function noSuchGroup(group: string, key: string): Reply {
  return err(`NOGROUP No such consumer group '${group}' for key name '${key}'`);
}

function subcommandSyntax(argv: readonly string[], cmd: string): Reply {
  return err(`ERR unknown subcommand or wrong number of arguments for '${(argv[1] ?? "").slice(0, 128)}'. Try ${cmd} HELP.`);
}

/** The stream at key: the stream, null when missing, or WRONGTYPE. */
function streamAt(ctx: Ctx, key: string, write: boolean): StreamObject | null | Reply {
  const v = write ? ctx.lookupWrite(key) : ctx.lookupRead(key);
  if (v === undefined) return null;
  return v instanceof StreamObject ? v : E.wrongType;
}

function isReply(x: StreamObject | Reply | null): x is Reply {
  return x !== null && !(x instanceof StreamObject);
}

function entryReply(e: StreamEntry): Reply {
  return array([bulk(formatId(e.id)), bulks(e.flat())]);
}

/** Live entries in [start, end], at most count (0 = all). */
function collect(s: StreamObject, start: StreamID, end: StreamID, rev: boolean, count: number): Reply[] {
  const out: Reply[] = [];
  s.scan(start, end, rev, (e) => {
    out.push(entryReply(e));
    return count === 0 || out.length < count;
  });
  return out;
}

/** A count option: an int64, negatives read as 0, beyond 2^53 as "all". */
function parseCount(s: string): number | null {
  const n = parseInt64(s);
  if (n === null) return null;
  if (n < 0) return 0;
  return typeof n === "bigint" ? Number.MAX_SAFE_INTEGER : n;
}

/** streamParseIntervalIDOrReply: `(id` is exclusive and strict. */
function parseInterval(arg: string, missingSeq: U64): { id: StreamID; ex: boolean } | null {
  const ex = arg.length > 1 && arg.charCodeAt(0) === 40;
  const p = ex ? parseStreamId(arg.slice(1), missingSeq, true) : parseStreamId(arg, missingSeq, false);
  return p === null ? null : { id: p.id, ex };
}

/** A [start, end] interval from user arguments with `(` handling, or the error. */
function parseRange(startArg: string, endArg: string): [StreamID, StreamID] | Reply {
  const start = parseInterval(startArg, 0);
  if (start === null) return ERR_INVALID_ID;
  let startId: StreamID | null = start.id;
  if (start.ex && (startId = incrId(startId)) === null) return ERR_START_INTERVAL;
  const end = parseInterval(endArg, U64_MAX);
  if (end === null) return ERR_INVALID_ID;
  let endId: StreamID | null = end.id;
  if (end.ex && (endId = decrId(endId)) === null) return ERR_END_INTERVAL;
  return [startId, endId];
}

function nodeLimits(ctx: Ctx): NodeLimits {
  const config = ctx.engine.config;
  return { maxBytes: config.getInt("stream-node-max-bytes"), maxEntries: config.getInt("stream-node-max-entries") };
}

/** delivery_count++ with uint64 wrap-around. */
function bumpCount(n: U64): U64 {
  return n === U64_MAX ? 0 : incrU64(n);
}

function claimEffect(key: string, g: ConsumerGroup, consumer: string, id: StreamID, nack: Nack): string[] {
  const time = String(nack.deliveryTime);
  return ["XCLAIM", key, g.name, consumer, "0", formatId(id), "TIME", time, "RETRYCOUNT", String(nack.deliveryCount), "FORCE", "JUSTID", "LASTID", formatId(g.lastId)];
}

function setIdEffect(key: string, g: ConsumerGroup): string[] {
  return ["XGROUP", "SETID", key, g.name, formatId(g.lastId), "ENTRIESREAD", String(g.entriesRead)];
}

function intOrNull(n: Int64 | null): Reply {
  return n === null ? NULL : int(n);
}

// ---------------------------------------------------------------------------
// XADD and XTRIM

interface AddTrimArgs {
  /** XADD: index of the ID argument. */
  idPos: number;
  id: StreamID | null;
  seqGiven: boolean;
  noMkStream: boolean;
  trim: TrimSpec | null;
  /** Index of the MAXLEN/MINID value (for the rewrite of `~`). */
  trimArgIdx: number;
  /** Indexes of LIMIT keywords (dropped from effects). */
  limitIdx: number[];
}

interface TrimParse {
  strategy: "maxlen" | "minid" | null;
  maxlen: number;
  minid: StreamID;
  approx: boolean;
  limit: number;
  limitGiven: boolean;
}

/** One MAXLEN/MINID option at argv[i]; returns the index of its value or the error. */
function parseStrategy(argv: readonly string[], i: number, t: TrimParse, strategy: "maxlen" | "minid"): number | Reply {
  if (t.strategy !== null) return ERR_STRATEGIES;
  const moreargs = argv.length - 1 - i;
  const next = argv[i + 1];
  t.approx = false;
  if (moreargs >= 2 && next === "~") {
    t.approx = true;
    i++;
  } else if (moreargs >= 2 && next === "=") {
    i++;
  }
  const arg = argv[i + 1] ?? "";
  if (strategy === "maxlen") {
    const n = parseInt64(arg);
    if (n === null) return E.notInteger;
    if (n < 0) return ERR_MAXLEN_NEG;
    t.maxlen = Number(n);
  } else {
    const p = parseStreamId(arg, 0, true);
    if (p === null) return ERR_INVALID_ID;
    t.minid = p.id;
  }
  t.strategy = strategy;
  return i + 1;
}

/** Redis's streamParseAddOrTrimArgsOrReply. */
function parseAddTrim(ctx: Ctx, argv: readonly string[], xadd: boolean): AddTrimArgs | Reply {
  const a: AddTrimArgs = { idPos: argv.length, id: null, seqGiven: true, noMkStream: false, trim: null, trimArgIdx: -1, limitIdx: [] };
  const t: TrimParse = { strategy: null, maxlen: 0, minid: MIN_ID, approx: false, limit: 0, limitGiven: false };
  let i = 2;
  for (; i < argv.length; i++) {
    const moreargs = argv.length - 1 - i;
    const opt = argv[i] ?? "";
    if (xadd && opt === "*") break;
    const lower = opt.toLowerCase();
    if ((lower === "maxlen" || lower === "minid") && moreargs > 0) {
      const r = parseStrategy(argv, i, t, lower);
      if (typeof r !== "number") return r;
      i = a.trimArgIdx = r;
    } else if (lower === "limit" && moreargs > 0) {
      const n = parseInt64(argv[i + 1] ?? "");
      if (n === null) return E.notInteger;
      if (n < 0) return ERR_LIMIT_NEG;
      t.limit = Number(n);
      t.limitGiven = true;
      a.limitIdx.push(i);
      i++;
    } else if (xadd && lower === "nomkstream") {
      a.noMkStream = true;
    } else if (xadd) {
      const p = parseStreamId(opt, 0, true, true);
      if (p === null) return ERR_INVALID_ID;
      a.id = p.id;
      a.seqGiven = p.seqGiven;
      break;
    } else {
      return E.syntax;
    }
  }
  a.idPos = i;
  const r = finishTrim(ctx, t, xadd);
  if (r !== null && "kind" in r) return r;
  a.trim = r;
  return a;
}

function finishTrim(ctx: Ctx, t: TrimParse, xadd: boolean): TrimSpec | null | Reply {
  if (t.limit !== 0 && t.strategy === null) return ERR_LIMIT_NO_STRATEGY;
  if (!xadd && t.strategy === null) return ERR_XTRIM_NO_STRATEGY;
  let limit = 0;
  if (ctx.mode === "apply") {
    // Like a master's stream in Redis: what arrives has been made exact.
    limit = 0;
  } else if (t.limitGiven) {
    if (!t.approx) return ERR_LIMIT_NO_APPROX;
    limit = t.limit;
  } else if (t.approx) {
    limit = 100 * ctx.engine.config.getInt("stream-node-max-entries");
    if (limit <= 0) limit = 10000;
    if (limit > 1000000) limit = 1000000;
  }
  if (t.strategy === null) return null;
  return { strategy: t.strategy, maxlen: t.maxlen, minid: t.minid, approx: t.approx, limit };
}

/** argv as a replica must see it: the ID chosen, `~` trims made exact, LIMIT dropped. */
function trimEffect(name: "XADD" | "XTRIM", argv: readonly string[], s: StreamObject, a: AddTrimArgs, id: string | null): string[] {
  const out = argv.slice();
  out[0] = name;
  if (id !== null) out[a.idPos] = id;
  if (a.trim !== null && a.trim.approx) {
    out[a.trimArgIdx - 1] = "=";
    out[a.trimArgIdx] = a.trim.strategy === "maxlen" ? String(s.length) : formatId(s.edgeId(true, false));
  }
  for (let k = a.limitIdx.length - 1; k >= 0; k--) out.splice(a.limitIdx[k] ?? 0, 2);
  return out;
}

function appendError(e: "not-greater" | "seq-exhausted" | "too-large"): Reply {
  // Redis reports an exhausted sequence with the stale errno of "too large".
  return e === "not-greater" ? ERR_NOT_GREATER : ERR_TOO_LARGE;
}

function xadd(ctx: Ctx, argv: string[]): Reply {
  const a = parseAddTrim(ctx, argv, true);
  if ("kind" in a) return a;
  const fieldPos = a.idPos + 1;
  const nArgs = argv.length - fieldPos;
  if (nArgs < 2 || nArgs % 2 === 1) return E.wrongArity("xadd");
  if (a.id !== null && a.seqGiven && isZeroId(a.id)) return ERR_ZERO_ID;
  const key = argv[1] ?? "";
  const found = streamAt(ctx, key, true);
  if (isReply(found)) return found;
  if (found === null && a.noMkStream) return NULL;
  const s = found ?? new StreamObject();
  if (isMaxId(s.lastId)) return ERR_EXHAUSTED;
  const id = s.nextId(ctx.now, a.id, a.seqGiven);
  if (typeof id === "string") return appendError(id);
  const fields: string[] = [];
  const values: string[] = [];
  let total = 0;
  for (let j = fieldPos; j < argv.length; j += 2) {
    const f = argv[j] ?? "";
    const v = argv[j + 1] ?? "";
    fields.push(f);
    values.push(v);
    total += f.length + v.length;
  }
  if (total > LISTPACK_SIZE_MAX) return ERR_TOO_LARGE;
  s.append(id, fields, values, nodeLimits(ctx));
  if (a.trim !== null) s.trim(a.trim);
  // A new stream is stored only once the append succeeded (Redis would leave an empty key).
  if (found === null) ctx.setKey(key, s);
  else ctx.touch(key);
  ctx.dirty++;
  const idText = formatId(id);
  if (ctx.recording) ctx.emit(trimEffect("XADD", argv, s, a, idText));
  return bulk(idText);
}

function xtrim(ctx: Ctx, argv: string[]): Reply {
  const a = parseAddTrim(ctx, argv, false);
  if ("kind" in a) return a;
  const key = argv[1] ?? "";
  const s = streamAt(ctx, key, true);
  if (s === null) return ZERO;
  if (isReply(s)) return s;
  if (a.trim === null) return ZERO;
  const deleted = s.trim(a.trim);
  if (deleted > 0) {
    ctx.touch(key);
    ctx.dirty += deleted;
    if (ctx.recording) ctx.emit(trimEffect("XTRIM", argv, s, a, null));
  }
  return int(deleted);
}

// ---------------------------------------------------------------------------
// XRANGE XREVRANGE XLEN XDEL

function xrange(ctx: Ctx, argv: string[], rev: boolean): Reply {
  const range = rev ? parseRange(argv[3] ?? "", argv[2] ?? "") : parseRange(argv[2] ?? "", argv[3] ?? "");
  if (!Array.isArray(range)) return range;
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if ((argv[j] ?? "").toLowerCase() === "count" && j + 1 < argv.length) {
      const n = parseCount(argv[++j] ?? "");
      if (n === null) return E.notInteger;
      count = n;
    } else {
      return E.syntax;
    }
  }
  const s = streamAt(ctx, argv[1] ?? "", false);
  if (s === null) return EMPTY_ARRAY;
  if (isReply(s)) return s;
  if (count === 0) return NULL_ARRAY;
  return array(collect(s, range[0], range[1], rev, count === -1 ? 0 : count));
}

function xlen(ctx: Ctx, argv: string[]): Reply {
  const s = streamAt(ctx, argv[1] ?? "", false);
  if (s === null) return ZERO;
  if (isReply(s)) return s;
  return int(s.length);
}

function parseIds(argv: readonly string[], from: number): StreamID[] | Reply {
  const ids: StreamID[] = [];
  for (let j = from; j < argv.length; j++) {
    const p = parseStreamId(argv[j] ?? "", 0, true);
    if (p === null) return ERR_INVALID_ID;
    ids.push(p.id);
  }
  return ids;
}

function xdel(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const s = streamAt(ctx, key, true);
  if (s === null) return ZERO;
  if (isReply(s)) return s;
  const ids = parseIds(argv, 2);
  if (!Array.isArray(ids)) return ids;
  let deleted = 0;
  let firstGone = false;
  for (const id of ids) {
    if (!s.deleteId(id)) continue;
    if (cmpId(id, s.firstId) === 0) firstGone = true;
    if (cmpId(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
    deleted++;
  }
  if (deleted > 0) {
    if (s.length === 0) s.firstId = MIN_ID;
    else if (firstGone) s.firstId = s.edgeId(true, true);
    ctx.touch(key);
    ctx.dirty += deleted;
  }
  return int(deleted);
}

// ---------------------------------------------------------------------------
// XREAD and XREADGROUP

interface ReadArgs {
  /** Absolute deadline (0 = forever), or -1 without BLOCK. */
  deadlineMs: number;
  blockArg: string;
  count: number;
  streamsArg: number;
  nStreams: number;
  group: string | null;
  consumer: string;
  noack: boolean;
}

function parseBlock(ctx: Ctx, arg: string): number | Reply {
  const n = parseInt64(arg);
  if (n === null) return ERR_BLOCK_TIMEOUT;
  if (n < 0) return E.timeoutNegative;
  return n === 0 ? 0 : ctx.now + Number(n);
}

/** One option of XREAD/XREADGROUP at argv[i]: the index of its last argument, or an error. */
function parseReadOption(ctx: Ctx, argv: readonly string[], i: number, a: ReadArgs, isGroup: boolean): number | Reply {
  const moreargs = argv.length - i - 1;
  const o = (argv[i] ?? "").toLowerCase();
  if (o === "block" && moreargs > 0) {
    const d = parseBlock(ctx, argv[i + 1] ?? "");
    if (typeof d !== "number") return d;
    a.deadlineMs = d;
    a.blockArg = argv[i + 1] ?? "";
    return i + 1;
  }
  if (o === "count" && moreargs > 0) {
    const n = parseCount(argv[i + 1] ?? "");
    if (n === null) return E.notInteger;
    a.count = n;
    return i + 1;
  }
  if (o === "group" && moreargs >= 2) {
    if (!isGroup) return ERR_GROUP_XREAD;
    a.group = argv[i + 1] ?? "";
    a.consumer = argv[i + 2] ?? "";
    return i + 2;
  }
  if (o === "noack") {
    if (!isGroup) return ERR_NOACK_XREAD;
    a.noack = true;
    return i;
  }
  return E.syntax;
}

function parseRead(ctx: Ctx, argv: readonly string[], isGroup: boolean): ReadArgs | Reply {
  const a: ReadArgs = { deadlineMs: -1, blockArg: "", count: 0, streamsArg: 0, nStreams: 0, group: null, consumer: "", noack: false };
  for (let i = 1; i < argv.length; i++) {
    if ((argv[i] ?? "").toLowerCase() === "streams" && i + 1 < argv.length) {
      a.streamsArg = i + 1;
      const n = argv.length - a.streamsArg;
      if (n % 2 !== 0) return ERR_UNBALANCED;
      a.nStreams = n / 2;
      break;
    }
    const r = parseReadOption(ctx, argv, i, a, isGroup);
    if (typeof r !== "number") return r;
    i = r;
  }
  if (a.streamsArg === 0) return E.syntax;
  if (isGroup && a.group === null) return ERR_MISSING_GROUP;
  return a;
}

/** True while the engine re-runs this session's blocked command. */
function isRerun(ctx: Ctx): boolean {
  return ctx.engine.blocking.isBlocked(ctx.session);
}

/** The start ID for each stream (MAX_ID marks `>`), checking types and groups. */
function resolveReadIds(ctx: Ctx, argv: readonly string[], a: ReadArgs): StreamID[] | Reply {
  const ids: StreamID[] = [];
  for (let i = 0; i < a.nStreams; i++) {
    const key = argv[a.streamsArg + i] ?? "";
    const idArg = argv[a.streamsArg + a.nStreams + i] ?? "";
    const s = streamAt(ctx, key, false);
    if (a.group !== null && (s === null || isReply(s)) && isRerun(ctx)) return ERR_KEY_GONE;
    if (isReply(s)) return s;
    if (a.group !== null && (s === null || s.group(a.group) === undefined)) {
      if (isRerun(ctx)) return s === null ? ERR_KEY_GONE : ERR_GROUP_GONE;
      return err(`NOGROUP No such key '${key}' or consumer group '${a.group}' in XREADGROUP with GROUP option`);
    }
    if (idArg === "$") {
      if (a.group !== null) return ERR_DOLLAR_GROUP;
      ids.push(s === null ? MIN_ID : s.lastId);
    } else if (idArg === ">") {
      if (a.group === null) return ERR_GT_XREAD;
      ids.push(MAX_ID);
    } else {
      const p = parseStreamId(idArg, 0, true);
      if (p === null) return ERR_INVALID_ID;
      ids.push(p.id);
    }
  }
  return ids;
}

function xreadGeneric(ctx: Ctx, argv: string[], isGroup: boolean): Reply {
  const a = parseRead(ctx, argv, isGroup);
  if ("kind" in a) return a;
  const ids = resolveReadIds(ctx, argv, a);
  if (!Array.isArray(ids)) return ids;
  const served: [string, Reply[]][] = [];
  for (let i = 0; i < a.nStreams; i++) {
    const key = argv[a.streamsArg + i] ?? "";
    const s = streamAt(ctx, key, false);
    if (s === null || isReply(s)) continue;
    const id = ids[i] ?? MIN_ID;
    const items = a.group === null ? readPlain(s, id, a.count) : readGroup(ctx, key, s, id, a);
    if (items !== null) served.push([key, items]);
  }
  if (served.length > 0) return readReply(ctx, served);
  if (a.deadlineMs < 0) return NULL_ARRAY;
  return ctx.block(blockRequest(argv, a, ids));
}

function readPlain(s: StreamObject, gt: StreamID, count: number): Reply[] | null {
  if (s.length === 0 || cmpId(s.lastValidId(), gt) <= 0) return null;
  return collect(s, incrId(gt) ?? MIN_ID, MAX_ID, false, count);
}

function readReply(ctx: Ctx, served: readonly [string, Reply[]][]): Reply {
  if (ctx.session.resp === 2) return array(served.map(([k, items]) => array([bulk(k), array(items)])));
  return map(served.flatMap(([k, items]) => [bulk(k), array(items)]));
}

/**
 * What a blocked reader re-runs: `$` resolved to the ID that was last when it
 * blocked (so only newer entries serve it), and Redis's COUNT for blocked
 * readers when none was given.
 */
function blockRequest(argv: readonly string[], a: ReadArgs, ids: readonly StreamID[]): BlockRequest {
  const keys = argv.slice(a.streamsArg, a.streamsArg + a.nStreams);
  const rerun = [argv[0] ?? "", "COUNT", String(a.count === 0 ? BLOCKED_COUNT_DEFAULT : a.count), "BLOCK", a.blockArg];
  if (a.group !== null) rerun.push("GROUP", a.group, a.consumer);
  if (a.noack) rerun.push("NOACK");
  rerun.push("STREAMS", ...keys);
  for (let i = 0; i < a.nStreams; i++) {
    rerun.push(a.group === null ? formatId(ids[i] ?? MIN_ID) : (argv[a.streamsArg + a.nStreams + i] ?? ">"));
  }
  // Readers of a group must also hear of the key's deletion (they fail then).
  const req = { keys, type: "stream" as const, deadlineMs: a.deadlineMs, timeoutReply: NULL_ARRAY, argv: rerun, wakeOnDelete: a.group !== null };
  return req;
}

/** Serves one stream to a consumer group reader, or null when it cannot be served yet. */
function readGroup(ctx: Ctx, key: string, s: StreamObject, gt: StreamID, a: ReadArgs): Reply[] | null {
  const g = s.group(a.group ?? "");
  if (g === undefined) return null;
  const history = !isMaxId(gt);
  if (!history && (s.length === 0 || cmpId(s.lastValidId(), g.lastId) <= 0)) return null;
  const start = incrId(history ? gt : g.lastId) ?? MIN_ID;
  let consumer = g.consumers.get(a.consumer);
  const created = consumer === undefined;
  if (consumer === undefined) {
    consumer = claimer(ctx, g, a.consumer, ctx.now);
  } else {
    consumer.seenTime = ctx.now;
  }
  const effects: string[][] = [];
  const items = history ? deliverHistory(ctx, key, s, g, consumer, start, a.count, effects) : deliverNew(ctx, key, s, g, consumer, start, a, effects);
  if (created && (a.noack || !effects.some((e) => e[0] === "XCLAIM"))) ctx.emit(["XGROUP", "CREATECONSUMER", key, g.name, consumer.name]);
  for (const e of effects) ctx.emit(e);
  ctx.dirty++;
  if (created || effects.length > 0) ctx.touch(key);
  return items;
}

function deliverNew(ctx: Ctx, key: string, s: StreamObject, g: ConsumerGroup, c: Consumer, start: StreamID, a: ReadArgs, effects: string[][]): Reply[] {
  const items: Reply[] = [];
  let moved = false;
  s.scan(start, MAX_ID, false, (e) => {
    if (cmpId(e.id, g.lastId) > 0) {
      s.advanceGroup(g, e.id);
      moved = true;
    }
    items.push(entryReply(e));
    if (!a.noack) effects.push(claimEffect(key, g, c.name, e.id, deliver(ctx, g, c, e.id)));
    return a.count === 0 || items.length < a.count;
  });
  if (moved) effects.push(setIdEffect(key, g));
  return items;
}

/** Puts a delivered entry in the PELs (taking it from another consumer if it was theirs). */
function deliver(ctx: Ctx, g: ConsumerGroup, c: Consumer, id: StreamID): Nack {
  let nack = g.pel.get(id);
  if (nack === undefined) {
    nack = new Nack(ctx.now, 1, c);
    g.pel.set(id, nack);
  } else {
    nack.consumer?.pel.delete(id);
    nack.consumer = c;
    nack.deliveryTime = ctx.now;
    nack.deliveryCount = 1;
  }
  c.pel.set(id, nack);
  return nack;
}

/** The consumer's own pending entries from start: re-delivered, or [id, nil] when deleted meanwhile. */
function deliverHistory(
  ctx: Ctx,
  key: string,
  s: StreamObject,
  g: ConsumerGroup,
  c: Consumer,
  start: StreamID,
  count: number,
  effects: string[][],
): Reply[] {
  const items: Reply[] = [];
  for (let cur = c.pel.next(start, false); cur !== undefined && (count === 0 || items.length < count); cur = c.pel.next(cur[0], true)) {
    const [id, nack] = cur;
    const e = s.entry(id);
    if (e === undefined) {
      items.push(array([bulk(formatId(id)), NULL_ARRAY]));
      continue;
    }
    items.push(entryReply(e));
    nack.deliveryTime = ctx.now;
    nack.deliveryCount = bumpCount(nack.deliveryCount);
    effects.push(claimEffect(key, g, c.name, id, nack));
  }
  return items;
}

// ---------------------------------------------------------------------------
// XGROUP

type GroupSub = "create" | "setid" | "destroy" | "createconsumer" | "delconsumer";

interface GroupPrelude {
  s: StreamObject | null;
  g: ConsumerGroup | undefined;
  mkstream: boolean;
  entriesRead: Int64;
}

function parseGroupOptions(argv: readonly string[], sub: GroupSub, p: GroupPrelude): Reply | null {
  for (let i = 5; i < argv.length; ) {
    const o = (argv[i] ?? "").toLowerCase();
    if (sub === "create" && o === "mkstream") {
      p.mkstream = true;
      i++;
    } else if ((sub === "create" || sub === "setid") && o === "entriesread" && i + 1 < argv.length) {
      const n = parseInt64(argv[i + 1] ?? "");
      if (n === null) return E.notInteger;
      if (n < 0 && n !== ENTRIES_READ_INVALID) return ERR_ENTRIESREAD;
      p.entriesRead = n;
      i += 2;
    } else {
      return subcommandSyntax(argv, "XGROUP");
    }
  }
  return null;
}

/** The checks every XGROUP subcommand but HELP shares, in Redis's order. */
function groupPrelude(ctx: Ctx, argv: readonly string[], sub: GroupSub): GroupPrelude | Reply {
  const p: GroupPrelude = { s: null, g: undefined, mkstream: false, entriesRead: ENTRIES_READ_INVALID };
  const bad = parseGroupOptions(argv, sub, p);
  if (bad !== null) return bad;
  const key = argv[2] ?? "";
  const name = argv[3] ?? "";
  const s = streamAt(ctx, key, true);
  if (isReply(s)) return s;
  p.s = s;
  if (!p.mkstream) {
    if (s === null) return ERR_XGROUP_NOKEY;
    p.g = s.group(name);
    if (p.g === undefined && (sub === "setid" || sub === "createconsumer" || sub === "delconsumer")) return noSuchGroup(name, key);
  }
  return p;
}

function xgroupCreate(ctx: Ctx, argv: string[]): Reply {
  const p = groupPrelude(ctx, argv, "create");
  if ("kind" in p) return p;
  if (argv.length > 8) return subcommandSyntax(argv, "XGROUP");
  const key = argv[2] ?? "";
  let id: StreamID;
  if (argv[4] === "$") {
    id = p.s === null ? MIN_ID : p.s.lastId;
  } else {
    const parsed = parseStreamId(argv[4] ?? "", 0, true);
    if (parsed === null) return ERR_INVALID_ID;
    id = parsed.id;
  }
  let s = p.s;
  if (s === null) {
    s = new StreamObject();
    ctx.setKey(key, s);
  }
  if (s.createGroup(argv[3] ?? "", id, p.entriesRead) === null) return ERR_BUSYGROUP;
  ctx.dirty++;
  ctx.touch(key);
  return OK;
}

function xgroupSetId(ctx: Ctx, argv: string[]): Reply {
  const p = groupPrelude(ctx, argv, "setid");
  if ("kind" in p) return p;
  if (argv.length !== 5 && argv.length !== 7) return subcommandSyntax(argv, "XGROUP");
  if (p.s === null || p.g === undefined) return subcommandSyntax(argv, "XGROUP");
  let id: StreamID;
  if (argv[4] === "$") {
    id = p.s.lastId;
  } else {
    const parsed = parseStreamId(argv[4] ?? "", 0, false);
    if (parsed === null) return ERR_INVALID_ID;
    id = parsed.id;
  }
  p.g.lastId = id;
  p.g.entriesRead = p.entriesRead;
  ctx.dirty++;
  ctx.touch(argv[2] ?? "");
  return OK;
}

function xgroupDestroy(ctx: Ctx, argv: string[]): Reply {
  const p = groupPrelude(ctx, argv, "destroy");
  if ("kind" in p) return p;
  if (p.s === null || p.g === undefined) return ZERO;
  p.s.groups?.delete(p.g.name);
  ctx.dirty++;
  // Readers blocked on this group must wake up and fail with NOGROUP.
  ctx.touch(argv[2] ?? "");
  return int(1);
}

function xgroupCreateConsumer(ctx: Ctx, argv: string[]): Reply {
  const p = groupPrelude(ctx, argv, "createconsumer");
  if ("kind" in p) return p;
  if (p.g === undefined) return ZERO;
  if (p.g.createConsumer(argv[4] ?? "", ctx.now) === null) return ZERO;
  ctx.dirty++;
  ctx.touch(argv[2] ?? "");
  return int(1);
}

function xgroupDelConsumer(ctx: Ctx, argv: string[]): Reply {
  const p = groupPrelude(ctx, argv, "delconsumer");
  if ("kind" in p) return p;
  const c = p.g?.consumers.get(argv[4] ?? "");
  if (p.g === undefined || c === undefined) return ZERO;
  const pending = c.pel.size;
  p.g.deleteConsumer(c);
  ctx.dirty++;
  ctx.touch(argv[2] ?? "");
  return int(pending);
}

const XGROUP_HELP = [
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
];

// ---------------------------------------------------------------------------
// XSETID

interface SetIdOptions {
  entriesAdded: number | bigint;
  maxDeleted: StreamID;
}

function parseSetIdOptions(argv: readonly string[], id: StreamID): SetIdOptions | Reply {
  const o: SetIdOptions = { entriesAdded: -1, maxDeleted: MIN_ID };
  for (let i = 3; i < argv.length; i += 2) {
    const opt = (argv[i] ?? "").toLowerCase();
    const moreargs = argv.length - 1 - i;
    if (opt === "entriesadded" && moreargs > 0) {
      const n = parseInt64(argv[i + 1] ?? "");
      if (n === null) return E.notInteger;
      if (n < 0) return ERR_ENTRIES_ADDED_NEG;
      o.entriesAdded = n;
    } else if (opt === "maxdeletedid" && moreargs > 0) {
      const p = parseStreamId(argv[i + 1] ?? "", 0, true);
      if (p === null) return ERR_INVALID_ID;
      if (cmpId(id, p.id) < 0) return ERR_SETID_MAXDEL;
      o.maxDeleted = p.id;
    } else {
      return E.syntax;
    }
  }
  return o;
}

function xsetid(ctx: Ctx, argv: string[]): Reply {
  const parsed = parseStreamId(argv[2] ?? "", 0, true);
  if (parsed === null) return ERR_INVALID_ID;
  const id = parsed.id;
  const o = parseSetIdOptions(argv, id);
  if ("kind" in o) return o;
  const key = argv[1] ?? "";
  const s = streamAt(ctx, key, true);
  if (s === null) return E.noSuchKey;
  if (isReply(s)) return s;
  if (s.length > 0) {
    if (cmpId(id, s.lastValidId()) < 0) return ERR_SETID_SMALLER;
    if (o.entriesAdded !== -1 && s.length > o.entriesAdded) return ERR_SETID_ADDED;
  }
  s.lastId = id;
  if (o.entriesAdded !== -1) s.entriesAdded = o.entriesAdded;
  if (!isZeroId(o.maxDeleted)) s.maxDeletedId = o.maxDeleted;
  ctx.dirty++;
  ctx.touch(key);
  return OK;
}

// ---------------------------------------------------------------------------
// XACK XPENDING

function xack(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const s = streamAt(ctx, key, false);
  if (isReply(s)) return s;
  const g = s?.group(argv[2] ?? "");
  if (g === undefined) return ZERO;
  const ids = parseIds(argv, 3);
  if (!Array.isArray(ids)) return ids;
  let acked = 0;
  for (const id of ids) {
    if (g.dropNack(id) === undefined) continue;
    acked++;
    ctx.dirty++;
  }
  if (acked > 0) ctx.touch(key);
  return int(acked);
}

interface PendingArgs {
  minIdle: number;
  start: StreamID;
  end: StreamID;
  count: number;
  consumer: string | null;
}

function parsePending(argv: readonly string[]): PendingArgs | Reply {
  let startIdx = 3;
  let minIdle = 0;
  if ((argv[3] ?? "").toLowerCase() === "idle") {
    const n = parseInt64(argv[4] ?? "");
    if (n === null) return E.notInteger;
    if (argv.length < 8) return E.syntax;
    minIdle = Number(n);
    startIdx += 2;
  }
  const count = parseCount(argv[startIdx + 2] ?? "");
  if (count === null) return E.notInteger;
  const range = parseRange(argv[startIdx] ?? "", argv[startIdx + 1] ?? "");
  if (!Array.isArray(range)) return range;
  const consumer = startIdx + 3 < argv.length ? (argv[startIdx + 3] ?? "") : null;
  return { minIdle, start: range[0], end: range[1], count, consumer };
}

function pendingSummary(g: ConsumerGroup): Reply {
  const first = g.pel.first();
  const last = g.pel.last();
  if (first === undefined || last === undefined) return array([int(0), NULL, NULL, NULL_ARRAY]);
  const owners: Reply[] = [];
  for (const c of g.consumerList()) {
    if (c.pel.size > 0) owners.push(array([bulk(c.name), bulk(String(c.pel.size))]));
  }
  return array([int(g.pel.size), bulk(formatId(first)), bulk(formatId(last)), array(owners)]);
}

function pendingRange(ctx: Ctx, g: ConsumerGroup, p: PendingArgs): Reply {
  let pel = g.pel;
  if (p.consumer !== null) {
    const c = g.consumers.get(p.consumer);
    if (c === undefined) return EMPTY_ARRAY;
    pel = c.pel;
  }
  const out: Reply[] = [];
  let count = p.count;
  for (let cur = pel.next(p.start, false); count > 0 && cur !== undefined && cmpId(cur[0], p.end) <= 0; cur = pel.next(cur[0], true)) {
    const [id, nack] = cur;
    const idle = ctx.now - nack.deliveryTime;
    if (p.minIdle !== 0 && idle < p.minIdle) continue;
    count--;
    out.push(array([bulk(formatId(id)), bulk(nack.consumer?.name ?? ""), int(Math.max(0, idle)), int(nack.deliveryCount)]));
  }
  return array(out);
}

function xpending(ctx: Ctx, argv: string[]): Reply {
  const argc = argv.length;
  if (argc !== 3 && (argc < 6 || argc > 9)) return E.syntax;
  const p = argc === 3 ? null : parsePending(argv);
  if (p !== null && "kind" in p) return p;
  const key = argv[1] ?? "";
  const groupName = argv[2] ?? "";
  const s = streamAt(ctx, key, false);
  if (isReply(s)) return s;
  const g = s?.group(groupName);
  if (g === undefined) return noGroup(key, groupName);
  return p === null ? pendingSummary(g) : pendingRange(ctx, g, p);
}

// ---------------------------------------------------------------------------
// XCLAIM XAUTOCLAIM

interface ClaimOptions {
  force: boolean;
  justId: boolean;
  /** Delivery time to set, or null for now. */
  deliveryTime: number | null;
  retryCount: number;
  lastId: StreamID;
}

function parseClaimOption(ctx: Ctx, argv: readonly string[], j: number, o: ClaimOptions): number | Reply {
  const opt = argv[j] ?? "";
  const lower = opt.toLowerCase();
  const hasArg = j + 1 < argv.length;
  const num = (what: string): number | Reply => {
    const n = parseInt64(argv[j + 1] ?? "");
    return n === null ? err(`ERR Invalid ${what} option argument for XCLAIM`) : Number(n);
  };
  if (lower === "force") {
    o.force = true;
  } else if (lower === "justid") {
    o.justId = true;
  } else if (lower === "idle" && hasArg) {
    const n = num("IDLE");
    if (typeof n !== "number") return n;
    o.deliveryTime = ctx.now - n;
    return j + 1;
  } else if (lower === "time" && hasArg) {
    const n = num("TIME");
    if (typeof n !== "number") return n;
    o.deliveryTime = n;
    return j + 1;
  } else if (lower === "retrycount" && hasArg) {
    const n = num("RETRYCOUNT");
    if (typeof n !== "number") return n;
    o.retryCount = n;
    return j + 1;
  } else if (lower === "lastid" && hasArg) {
    const p = parseStreamId(argv[j + 1] ?? "", 0, true);
    if (p === null) return ERR_INVALID_ID;
    o.lastId = p.id;
    return j + 1;
  } else {
    return err(`ERR Unrecognized XCLAIM option '${opt}'`);
  }
  return j;
}

function minIdleArg(arg: string, cmd: string): number | Reply {
  const n = parseInt64(arg);
  if (n === null) return err(`ERR Invalid min-idle-time argument for ${cmd}`);
  return n < 0 ? 0 : Number(n);
}

/** The group of an XCLAIM/XAUTOCLAIM, its stream, or the error. */
function claimTarget(ctx: Ctx, argv: readonly string[]): [StreamObject, ConsumerGroup] | Reply {
  const key = argv[1] ?? "";
  const s = streamAt(ctx, key, false);
  if (isReply(s)) return s;
  const g = s?.group(argv[2] ?? "");
  if (s === null || g === undefined) return noGroup(key, argv[2] ?? "");
  return [s, g];
}

/** The claiming consumer, created on first use (its seen-time refreshed). */
function claimer(ctx: Ctx, g: ConsumerGroup, name: string, seenMs: number): Consumer {
  const c = g.consumers.get(name);
  if (c !== undefined) {
    c.seenTime = seenMs;
    return c;
  }
  ctx.dirty++;
  const created = g.createConsumer(name, seenMs);
  assert(created !== null, "consumer both missing and present");
  return created;
}

/** Gives a pending entry to consumer c (Redis's reassignment in XCLAIM/XAUTOCLAIM). */
function reassign(c: Consumer, id: StreamID, nack: Nack): void {
  if (nack.consumer === c) return;
  nack.consumer?.pel.delete(id);
  c.pel.set(id, nack);
  nack.consumer = c;
}

/** A pending entry whose stream entry is gone: dropped, and the drop replicated. */
function dropDeleted(ctx: Ctx, key: string, g: ConsumerGroup, id: StreamID, nack: Nack): void {
  ctx.emit(claimEffect(key, g, nack.consumer?.name ?? "", id, nack));
  ctx.dirty++;
  g.dropNack(id);
}

function xclaim(ctx: Ctx, argv: string[]): Reply {
  const target = claimTarget(ctx, argv);
  if (!Array.isArray(target)) return target;
  const [s, g] = target;
  const minIdle = minIdleArg(argv[4] ?? "", "XCLAIM");
  if (typeof minIdle !== "number") return minIdle;
  const ids: StreamID[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const p = parseStreamId(argv[j] ?? "", 0, true);
    if (p === null) break;
    ids.push(p.id);
  }
  const o: ClaimOptions = { force: false, justId: false, deliveryTime: null, retryCount: -1, lastId: MIN_ID };
  for (; j < argv.length; j++) {
    const r = parseClaimOption(ctx, argv, j, o);
    if (typeof r !== "number") return r;
    j = r;
  }
  return claimIds(ctx, argv[1] ?? "", s, g, argv[3] ?? "", ids, minIdle, o);
}

function claimTime(ctx: Ctx, o: ClaimOptions): number {
  if (o.deliveryTime === null) return ctx.now;
  // A bogus time is read as now, except when applying effects (they carry exact times).
  if (ctx.mode !== "apply" && (o.deliveryTime < 0 || o.deliveryTime > ctx.now)) return ctx.now;
  return o.deliveryTime;
}

function claimIds(ctx: Ctx, key: string, s: StreamObject, g: ConsumerGroup, name: string, ids: readonly StreamID[], minIdle: number, o: ClaimOptions): Reply {
  let propagateLastId = false;
  if (cmpId(o.lastId, g.lastId) > 0) {
    g.lastId = o.lastId;
    propagateLastId = true;
  }
  const time = claimTime(ctx, o);
  const seenMs = ctx.mode === "apply" ? time : ctx.now;
  let c: Consumer | null = null;
  const out: Reply[] = [];
  for (const id of ids) {
    let nack = g.pel.get(id);
    const e = s.entry(id);
    if (e === undefined) {
      if (nack !== undefined) {
        dropDeleted(ctx, key, g, id, nack);
        propagateLastId = false;
      }
      continue;
    }
    if (o.force && nack === undefined) {
      nack = new Nack(ctx.now, 1, null);
      g.pel.set(id, nack);
    }
    if (nack === undefined) continue;
    if (nack.consumer !== null && minIdle !== 0 && ctx.now - nack.deliveryTime < minIdle) continue;
    c ??= claimer(ctx, g, name, seenMs);
    nack.deliveryTime = time;
    if (o.retryCount >= 0) nack.deliveryCount = o.retryCount;
    else if (!o.justId) nack.deliveryCount = bumpCount(nack.deliveryCount);
    reassign(c, id, nack);
    out.push(o.justId ? bulk(formatId(id)) : entryReply(e));
    ctx.emit(claimEffect(key, g, c.name, id, nack));
    propagateLastId = false;
    ctx.dirty++;
  }
  if (propagateLastId) {
    ctx.emit(setIdEffect(key, g));
    ctx.dirty++;
  }
  if (ctx.dirty > 0) ctx.touch(key);
  return array(out);
}

interface AutoClaimArgs {
  minIdle: number;
  start: StreamID;
  count: number;
  justId: boolean;
}

function parseAutoClaim(argv: readonly string[]): AutoClaimArgs | Reply {
  const minIdle = minIdleArg(argv[4] ?? "", "XAUTOCLAIM");
  if (typeof minIdle !== "number") return minIdle;
  const startArg = parseInterval(argv[5] ?? "", 0);
  if (startArg === null) return ERR_INVALID_ID;
  const start = startArg.ex ? incrId(startArg.id) : startArg.id;
  if (start === null) return ERR_START_INTERVAL;
  const a: AutoClaimArgs = { minIdle, start, count: 100, justId: false };
  for (let j = 6; j < argv.length; j++) {
    const opt = (argv[j] ?? "").toLowerCase();
    if (opt === "count" && j + 1 < argv.length) {
      const n = parseInt64(argv[++j] ?? "");
      if (n === null || n < 1 || n > AUTOCLAIM_COUNT_MAX) return ERR_COUNT_POSITIVE;
      a.count = Number(n);
    } else if (opt === "justid") {
      a.justId = true;
    } else {
      return E.syntax;
    }
  }
  return a;
}

function xautoclaim(ctx: Ctx, argv: string[]): Reply {
  const a = parseAutoClaim(argv);
  if ("kind" in a) return a;
  const target = claimTarget(ctx, argv);
  if (!Array.isArray(target)) return target;
  const [s, g] = target;
  const key = argv[1] ?? "";
  const claimed: Reply[] = [];
  const deleted: Reply[] = [];
  let count = a.count;
  let attempts = a.count * AUTOCLAIM_ATTEMPTS_FACTOR;
  let c: Consumer | null = null;
  let from = a.start;
  let exclusive = false;
  for (;;) {
    if (attempts-- === 0 || count === 0) break;
    const cur = g.pel.next(from, exclusive);
    if (cur === undefined) break;
    const [id, nack] = cur;
    from = id;
    exclusive = true;
    const e = s.entry(id);
    if (e === undefined) {
      dropDeleted(ctx, key, g, id, nack);
      deleted.push(bulk(formatId(id)));
      count--;
      continue;
    }
    if (a.minIdle !== 0 && ctx.now - nack.deliveryTime < a.minIdle) continue;
    c ??= claimer(ctx, g, argv[3] ?? "", ctx.now);
    nack.deliveryTime = ctx.now;
    if (!a.justId) nack.deliveryCount = bumpCount(nack.deliveryCount);
    reassign(c, id, nack);
    claimed.push(a.justId ? bulk(formatId(id)) : entryReply(e));
    count--;
    ctx.emit(claimEffect(key, g, c.name, id, nack));
    ctx.dirty++;
  }
  const next = g.pel.next(from, exclusive);
  if (ctx.dirty > 0) ctx.touch(key);
  return array([bulk(next === undefined ? "0-0" : formatId(next[0])), array(claimed), array(deleted)]);
}

// ---------------------------------------------------------------------------
// XINFO

function streamInfoHead(s: StreamObject): Reply[] {
  return [
    bulk("length"),
    int(s.length),
    bulk("radix-tree-keys"),
    int(s.nodes.length),
    bulk("radix-tree-nodes"),
    int(s.radixTreeNodes()),
    bulk("last-generated-id"),
    bulk(formatId(s.lastId)),
    bulk("max-deleted-entry-id"),
    bulk(formatId(s.maxDeletedId)),
    bulk("entries-added"),
    int(s.entriesAdded),
    bulk("recorded-first-entry-id"),
    bulk(formatId(s.firstId)),
  ];
}

function edgeEntry(s: StreamObject, last: boolean): Reply {
  const items = collect(s, MIN_ID, MAX_ID, last, 1);
  return items[0] ?? NULL;
}

function groupFull(s: StreamObject, g: ConsumerGroup, count: number): Reply {
  const pending: Reply[] = [];
  for (let cur = g.pel.next(MIN_ID, false); cur !== undefined && (count === 0 || pending.length < count); cur = g.pel.next(cur[0], true)) {
    const [id, nack] = cur;
    pending.push(array([bulk(formatId(id)), bulk(nack.consumer?.name ?? ""), int(nack.deliveryTime), int(nack.deliveryCount)]));
  }
  const consumers = g.consumerList().map((c) => consumerFull(c, count));
  return map([
    bulk("name"),
    bulk(g.name),
    bulk("last-delivered-id"),
    bulk(formatId(g.lastId)),
    bulk("entries-read"),
    g.entriesRead === ENTRIES_READ_INVALID ? NULL : int(g.entriesRead),
    bulk("lag"),
    intOrNull(s.lag(g)),
    bulk("pel-count"),
    int(g.pel.size),
    bulk("pending"),
    array(pending),
    bulk("consumers"),
    array(consumers),
  ]);
}

function consumerFull(c: Consumer, count: number): Reply {
  const pending: Reply[] = [];
  for (let cur = c.pel.next(MIN_ID, false); cur !== undefined && (count === 0 || pending.length < count); cur = c.pel.next(cur[0], true)) {
    const [id, nack] = cur;
    pending.push(array([bulk(formatId(id)), int(nack.deliveryTime), int(nack.deliveryCount)]));
  }
  return map([bulk("name"), bulk(c.name), bulk("seen-time"), int(c.seenTime), bulk("pel-count"), int(c.pel.size), bulk("pending"), array(pending)]);
}

/** XINFO's common start: the stream at argv[2] or the error. */
function infoStream(ctx: Ctx, argv: readonly string[]): StreamObject | Reply {
  const s = streamAt(ctx, argv[2] ?? "", false);
  return s === null ? E.noSuchKey : s;
}

function xinfoStream(ctx: Ctx, argv: string[]): Reply {
  const s = infoStream(ctx, argv);
  if (!(s instanceof StreamObject)) return s;
  const optc = argv.length - 3;
  let count = XINFO_FULL_COUNT_DEFAULT;
  if (optc === 0) {
    const g = s.groups === null ? 0 : s.groups.size;
    return map([...streamInfoHead(s), bulk("groups"), int(g), bulk("first-entry"), edgeEntry(s, false), bulk("last-entry"), edgeEntry(s, true)]);
  }
  if ((optc !== 1 && optc !== 3) || (argv[3] ?? "").toLowerCase() !== "full") return subcommandSyntax(argv, "XINFO");
  if (optc === 3) {
    if ((argv[4] ?? "").toLowerCase() !== "count") return subcommandSyntax(argv, "XINFO");
    const n = parseInt64(argv[5] ?? "");
    if (n === null) return E.notInteger;
    count = n < 0 ? XINFO_FULL_COUNT_DEFAULT : Number(n);
  }
  const groups = s.groupList().map((g) => groupFull(s, g, count));
  return map([...streamInfoHead(s), bulk("entries"), array(collect(s, MIN_ID, MAX_ID, false, count)), bulk("groups"), array(groups)]);
}

function xinfoGroups(ctx: Ctx, argv: string[]): Reply {
  const s = infoStream(ctx, argv);
  if (!(s instanceof StreamObject)) return s;
  return array(
    s.groupList().map((g) =>
      map([
        bulk("name"),
        bulk(g.name),
        bulk("consumers"),
        int(g.consumers.size),
        bulk("pending"),
        int(g.pel.size),
        bulk("last-delivered-id"),
        bulk(formatId(g.lastId)),
        bulk("entries-read"),
        g.entriesRead === ENTRIES_READ_INVALID ? NULL : int(g.entriesRead),
        bulk("lag"),
        intOrNull(s.lag(g)),
      ]),
    ),
  );
}

function xinfoConsumers(ctx: Ctx, argv: string[]): Reply {
  const s = infoStream(ctx, argv);
  if (!(s instanceof StreamObject)) return s;
  const g = s.group(argv[3] ?? "");
  if (g === undefined) return noSuchGroup(argv[3] ?? "", argv[2] ?? "");
  return array(
    g.consumerList().map((c) => map([bulk("name"), bulk(c.name), bulk("pending"), int(c.pel.size), bulk("idle"), int(Math.max(0, ctx.now - c.seenTime))])),
  );
}

const XINFO_HELP = [
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
];

// ---------------------------------------------------------------------------
// The table

const W_FAST: CommandSpec["flags"] = ["write", "fast"];

/** Redis's xreadGetKeys: the keys follow the first STREAMS that is not an option's argument. */
function xreadKeys(argv: readonly string[]): number[] {
  let streams = -1;
  for (let i = 1; i < argv.length; i++) {
    const o = (argv[i] ?? "").toLowerCase();
    if (o === "block" || o === "count") i++;
    else if (o === "group") i += 2;
    else if (o === "streams") {
      streams = i;
      break;
    } else if (o !== "noack") break;
  }
  const n = streams < 0 ? 0 : argv.length - streams - 1;
  if (n === 0 || n % 2 !== 0) return [];
  const out: number[] = [];
  for (let i = streams + 1; i < argv.length - n / 2; i++) out.push(i);
  return out;
}

export const STREAM_COMMANDS: readonly CommandSpec[] = [
  { name: "xadd", arity: -5, flags: ["write", "denyoom", "fast"], keys: K1, effects: "explicit", group: "stream", since: "5.0.0", run: xadd },
  { name: "xrange", arity: -4, flags: ["readonly"], keys: K1, group: "stream", since: "5.0.0", run: (c, a) => xrange(c, a, false) },
  { name: "xrevrange", arity: -4, flags: ["readonly"], keys: K1, group: "stream", since: "5.0.0", run: (c, a) => xrange(c, a, true) },
  { name: "xlen", arity: 2, flags: ["readonly", "fast"], keys: K1, group: "stream", since: "5.0.0", run: xlen },
  { name: "xdel", arity: -3, flags: W_FAST, keys: K1, effects: "verbatim", group: "stream", since: "5.0.0", run: xdel },
  { name: "xtrim", arity: -4, flags: ["write"], keys: K1, effects: "explicit", group: "stream", since: "5.0.0", run: xtrim },
  { name: "xread", arity: -4, flags: ["readonly", "blocking"], getKeys: xreadKeys, group: "stream", since: "5.0.0", run: (c, a) => xreadGeneric(c, a, false) },
  {
    name: "xreadgroup",
    arity: -7,
    flags: ["write", "blocking"],
    getKeys: xreadKeys,
    effects: "explicit",
    group: "stream",
    since: "5.0.0",
    run: (c, a) => xreadGeneric(c, a, true),
  },
  {
    name: "xgroup",
    arity: -2,
    flags: [],
    group: "stream",
    since: "5.0.0",
    subcommands: [
      { name: "create", arity: -5, flags: ["write", "denyoom"], keys: K2, effects: "verbatim", group: "stream", since: "5.0.0", run: xgroupCreate },
      { name: "setid", arity: -5, flags: ["write"], keys: K2, effects: "verbatim", group: "stream", since: "5.0.0", run: xgroupSetId },
      { name: "destroy", arity: 4, flags: ["write"], keys: K2, effects: "verbatim", group: "stream", since: "5.0.0", run: xgroupDestroy },
      { name: "createconsumer", arity: 5, flags: ["write", "denyoom"], keys: K2, effects: "verbatim", group: "stream", since: "6.2.0", run: xgroupCreateConsumer },
      { name: "delconsumer", arity: 5, flags: ["write"], keys: K2, effects: "verbatim", group: "stream", since: "5.0.0", run: xgroupDelConsumer },
      { name: "help", arity: 2, flags: ["loading", "stale"], group: "stream", since: "5.0.0", run: () => helpReply("XGROUP", XGROUP_HELP) },
    ],
  },
  { name: "xsetid", arity: -3, flags: ["write", "denyoom", "fast"], keys: K1, effects: "verbatim", group: "stream", since: "5.0.0", run: xsetid },
  { name: "xack", arity: -4, flags: W_FAST, keys: K1, effects: "verbatim", group: "stream", since: "5.0.0", run: xack },
  { name: "xpending", arity: -3, flags: ["readonly"], keys: K1, group: "stream", since: "5.0.0", run: xpending },
  { name: "xclaim", arity: -6, flags: W_FAST, keys: K1, effects: "explicit", group: "stream", since: "5.0.0", run: xclaim },
  { name: "xautoclaim", arity: -6, flags: W_FAST, keys: K1, effects: "explicit", group: "stream", since: "6.2.0", run: xautoclaim },
  {
    name: "xinfo",
    arity: -2,
    flags: [],
    group: "stream",
    since: "5.0.0",
    subcommands: [
      { name: "stream", arity: -3, flags: ["readonly"], keys: K2, group: "stream", since: "5.0.0", run: xinfoStream },
      { name: "groups", arity: 3, flags: ["readonly"], keys: K2, group: "stream", since: "5.0.0", run: xinfoGroups },
      { name: "consumers", arity: 4, flags: ["readonly"], keys: K2, group: "stream", since: "5.0.0", run: xinfoConsumers },
      { name: "help", arity: 2, flags: ["loading", "stale"], group: "stream", since: "5.0.0", run: () => helpReply("XINFO", XINFO_HELP) },
    ],
  },
];
