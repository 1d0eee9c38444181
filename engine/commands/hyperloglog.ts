// HyperLogLog commands (Redis's hyperloglog.c): PFADD PFCOUNT PFMERGE PFDEBUG
// PFSELFTEST. An HLL is a plain string in Redis's byte format (../hll.ts), so
// GET/SET/DUMP/RESTORE move HLLs between Mnemo and Redis unchanged.
//
// Effects are verbatim: replaying PFADD/PFMERGE/PFDEBUG on identical bytes
// gives identical bytes. PFCOUNT of one key stores the cardinality it computed
// in the header, as Redis does, and so replicates too (when it did that).
import { array, bulk, err, int, OK, ONE, simple, ZERO, type Reply } from "../../resp/reply";
import { assert } from "../assert";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import {
  cachedCardinality,
  checkHll,
  countOf,
  decodeSparse,
  denseRegisterOf,
  estimate,
  HLL_P,
  HLL_REGISTERS,
  HllBuffer,
  hllPatLen,
  hllSelfTest,
  isDense,
  mergeInto,
  rawHistogram,
  withDenseRegister,
  withCachedCardinality,
} from "../hll";
import type { Value } from "../value";

const ERR_INVALID_HLL = err("INVALIDOBJ Corrupted HLL object detected");
const ERR_NOT_HLL = err("WRONGTYPE Key is not a valid HyperLogLog string value.");
const ERR_NO_KEY = err("ERR The specified key does not exist");
const ERR_NOT_SPARSE = err("ERR HLL encoding is not sparse");
const REGISTER_MASK = HLL_REGISTERS - 1;
const TWO_POW_63 = 1n << 63n;
const TWO_POW_64 = 1n << 64n;

/** isHLLObjectOrReply: the value as an HLL string, or the error to reply. */
function asHll(v: Value): string | Reply {
  if (typeof v !== "string") return E.wrongType;
  return checkHll(v) === "ok" ? v : ERR_NOT_HLL;
}

function sparseBytesMax(ctx: Ctx): number {
  return ctx.engine.config.getInt("hll-sparse-max-bytes");
}

/** Redis replies the unsigned cardinality through addReplyLongLong: 2^63 and up wrap negative. */
function cardinalityReply(card: number | bigint): Reply {
  return typeof card === "bigint" && card >= TWO_POW_63 ? int(card - TWO_POW_64) : int(card);
}

/**
 * PFADD key [element ...]: 1 when a register changed or the key was created.
 * A dense HLL is read in place, so a PFADD that changes nothing copies nothing;
 * its first change is made as a rope (one lazy copy); only a second change
 * moves the work to a buffer, stored once at the end.
 */
function pfadd(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const v = ctx.lookupWrite(key);
  let s = "";
  let work: HllBuffer | null = null;
  let updated = 0;
  if (v === undefined) {
    work = HllBuffer.empty();
    updated = 1;
  } else {
    const checked = asHll(v);
    if (typeof checked !== "string") return checked;
    s = checked;
  }
  const limit = sparseBytesMax(ctx);
  for (let j = 2; j < argv.length; j++) {
    const pl = hllPatLen(argv[j] ?? "");
    const index = pl & REGISTER_MASK;
    const count = pl >>> HLL_P;
    if (work === null) {
      if (isDense(s)) {
        if (denseRegisterOf(s, index) >= count) continue;
        if (updated === 0) {
          s = withDenseRegister(s, index, count);
          updated = 1;
          continue;
        }
      }
      work = HllBuffer.from(s);
    }
    const r = work.set(index, count, limit);
    if (r < 0) return corruptAfter(ctx, key, work, updated);
    updated += r;
  }
  if (updated === 0) return ZERO;
  if (work !== null) {
    work.invalidateCache();
    s = work.toString();
  }
  ctx.setKey(key, s, true);
  ctx.dirty += updated;
  return ONE;
}

/**
 * PFADD met corrupt opcodes after changing registers: Redis keeps those
 * changes but neither counts nor propagates them. Mnemo keeps them too and
 * replicates the resulting bytes (replaying PFADD would fail again).
 */
function corruptAfter(ctx: Ctx, key: string, work: HllBuffer, updated: number): Reply {
  if (updated > 0) {
    const bytes = work.toString();
    ctx.setKey(key, bytes, true);
    ctx.emit(["SET", key, bytes, "KEEPTTL"]);
  }
  return ERR_INVALID_HLL;
}

/**
 * PFCOUNT key [key ...]. One key: the cached cardinality, or a fresh one that
 * is then cached in the value (not on a replica serving reads: its bytes must
 * stay the primary's). Several keys: the union's cardinality, cached nowhere.
 */
function pfcount(ctx: Ctx, argv: string[]): Reply {
  if (argv.length > 2) return pfcountUnion(ctx, argv);
  const key = argv[1] ?? "";
  const v = ctx.lookupRead(key);
  if (v === undefined) return ZERO;
  const s = asHll(v);
  if (typeof s !== "string") return s;
  const cached = cachedCardinality(s);
  if (cached !== null) return int(cached);
  const card = countOf(s);
  if (card === null) return ERR_INVALID_HLL;
  if (ctx.mode !== "replica") {
    ctx.setKey(key, withCachedCardinality(s, card), true);
    ctx.dirty++;
  }
  return cardinalityReply(card);
}

function pfcountUnion(ctx: Ctx, argv: string[]): Reply {
  const max = new Uint8Array(HLL_REGISTERS);
  for (let j = 1; j < argv.length; j++) {
    const v = ctx.lookupRead(argv[j] ?? "");
    if (v === undefined) continue;
    const s = asHll(v);
    if (typeof s !== "string") return s;
    if (!mergeInto(max, s)) return ERR_INVALID_HLL;
  }
  const histo = new Int32Array(64);
  rawHistogram(max, histo);
  return cardinalityReply(estimate(histo));
}

/**
 * PFMERGE destkey [sourcekey ...]: the destination is one of the inputs. It
 * ends dense when any input is dense, else stays sparse unless the merged
 * registers promote it (hllSparseSet), exactly as Redis 7.0 builds it.
 */
function pfmerge(ctx: Ctx, argv: string[]): Reply {
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let j = 1; j < argv.length; j++) {
    const v = ctx.lookupRead(argv[j] ?? "");
    if (v === undefined) continue;
    const s = asHll(v);
    if (typeof s !== "string") return s;
    if (isDense(s)) useDense = true;
    if (!mergeInto(max, s)) return ERR_INVALID_HLL;
  }
  const key = argv[1] ?? "";
  const dest = ctx.lookupWrite(key);
  assert(dest === undefined || typeof dest === "string", "PFMERGE destination was checked as an input");
  const work = dest === undefined ? HllBuffer.empty() : HllBuffer.from(dest);
  if (useDense && !work.toDense()) return ERR_INVALID_HLL;
  const limit = sparseBytesMax(ctx);
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const m = max[i] ?? 0;
    if (m !== 0) work.set(i, m, limit);
  }
  work.invalidateCache();
  ctx.setKey(key, work.toString(), true);
  ctx.dirty++;
  return OK;
}

/** PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. */
function pfdebug(ctx: Ctx, argv: string[]): Reply {
  const sub = argv[1] ?? "";
  const key = argv[2] ?? "";
  const v = ctx.lookupWrite(key);
  if (v === undefined) return ERR_NO_KEY;
  const s = asHll(v);
  if (typeof s !== "string") return s;
  switch (sub.toLowerCase()) {
    case "getreg": {
      const dense = ensureDense(ctx, key, s);
      if (dense === null) return ERR_INVALID_HLL;
      const regs: Reply[] = new Array<Reply>(HLL_REGISTERS);
      for (let i = 0; i < HLL_REGISTERS; i++) regs[i] = int(denseRegisterOf(dense, i));
      return array(regs);
    }
    case "decode":
      return isDense(s) ? ERR_NOT_SPARSE : bulk(decodeSparse(s));
    case "encoding":
      return simple(isDense(s) ? "dense" : "sparse");
    case "todense": {
      if (isDense(s)) return ZERO;
      return ensureDense(ctx, key, s) === null ? ERR_INVALID_HLL : ONE;
    }
    default:
      return err(`ERR Unknown PFDEBUG subcommand '${sub}'`);
  }
}

/** The HLL as dense bytes, storing the conversion when it was sparse; null if corrupt. */
function ensureDense(ctx: Ctx, key: string, s: string): string | null {
  if (isDense(s)) return s;
  const work = HllBuffer.from(s);
  if (!work.toDense()) return null;
  const dense = work.toString();
  ctx.setKey(key, dense, true);
  ctx.dirty++;
  return dense;
}

function pfselftest(ctx: Ctx): Reply {
  const failure = hllSelfTest(() => ctx.random(), sparseBytesMax(ctx));
  return failure === null ? OK : err(`ERR ${failure}`);
}

export const HYPERLOGLOG_COMMANDS: readonly CommandSpec[] = [
  { name: "pfadd", arity: -2, flags: ["write", "denyoom", "fast"], keys: [1, 1, 1], group: "hyperloglog", since: "2.8.9", run: pfadd },
  {
    name: "pfcount",
    arity: -2,
    flags: ["readonly", "may_replicate"],
    keys: [1, -1, 1],
    effects: "verbatim",
    group: "hyperloglog",
    since: "2.8.9",
    run: pfcount,
  },
  { name: "pfmerge", arity: -2, flags: ["write", "denyoom"], keys: [1, -1, 1], group: "hyperloglog", since: "2.8.9", run: pfmerge },
  { name: "pfdebug", arity: 3, flags: ["write", "denyoom", "admin"], keys: [2, 2, 1], group: "hyperloglog", since: "2.8.9", run: pfdebug },
  { name: "pfselftest", arity: 1, flags: ["admin"], group: "hyperloglog", since: "2.8.9", run: pfselftest },
];
