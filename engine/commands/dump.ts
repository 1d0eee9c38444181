// DUMP and RESTORE (Redis's cluster.c), with payloads in Redis's own format
// (see ../rdb.ts) so values move between Redis and Mnemo in both directions.
//
// RESTORE's effect is canonical: `RESTORE key <abs ms or 0> payload REPLACE
// ABSTTL`, which replays identically whatever the key held; a TTL already in
// the past deletes instead (`DEL key` if a key was replaced, else nothing).
import { bulk, err, NULL, OK, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { compactLimits, isLfuPolicy, resetMeta, setFreq, setIdle } from "../encoding";
import { E } from "../errors";
import { parseInt64 } from "../num";
import { createDumpPayload, decodeDumpPayload } from "../rdb";
import { formatMs } from "./expire";

const BUSY_KEY = err("BUSYKEY Target key name already exists.");
const BAD_FORMAT = err("ERR Bad data format");
const BAD_CHECKSUM = err("ERR DUMP payload version or checksum are wrong");
const STREAM_UNSUPPORTED = err("ERR DUMP of stream values is not supported yet");
const LFU_FREQ_MAX = 255;

function dump(ctx: Ctx, argv: string[]): Reply {
  const v = ctx.lookupRead(argv[1] ?? "");
  if (v === undefined) return NULL;
  const payload = createDumpPayload(v, compactLimits(ctx.engine.config));
  return payload === null ? STREAM_UNSUPPORTED : bulk(payload.toString("latin1"));
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
  const decoded = decodeDumpPayload(Buffer.from(payload, "latin1"));
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
