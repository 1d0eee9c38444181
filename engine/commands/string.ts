// String commands (Redis's t_string.c).
import { bulk, NULL, OK, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseInt64 } from "../num";

/** Reads a string value: the string, null when missing, or WRONGTYPE. */
export function getString(ctx: Ctx, key: string): string | null | Reply {
  const v = ctx.lookupRead(key);
  if (v === undefined) return null;
  if (typeof v !== "string") return E.wrongType;
  return v;
}

function get(ctx: Ctx, argv: string[]): Reply {
  const v = ctx.lookupRead(argv[1] ?? "");
  if (v === undefined) return NULL;
  if (typeof v !== "string") return E.wrongType;
  return bulk(v);
}

const SET_NX = 1;
const SET_XX = 2;
const SET_GET = 4;
const SET_KEEPTTL = 8;

interface SetOptions {
  flags: number;
  /** Absolute expire time in ms, or -1 for none. */
  expireAtMs: number;
}

/** Parses SET's options; `now` turns relative expiries into absolute ones. */
function parseSetOptions(ctx: Ctx, argv: string[], from: number): SetOptions | Reply {
  let flags = 0;
  let unit: "" | "ex" | "px" | "exat" | "pxat" = "";
  let amount = 0;
  for (let i = from; i < argv.length; i++) {
    const opt = (argv[i] ?? "").toLowerCase();
    const next = argv[i + 1];
    if (opt === "nx" && !(flags & SET_XX)) flags |= SET_NX;
    else if (opt === "xx" && !(flags & SET_NX)) flags |= SET_XX;
    else if (opt === "get") flags |= SET_GET;
    else if (opt === "keepttl" && unit === "") flags |= SET_KEEPTTL;
    else if ((opt === "ex" || opt === "px" || opt === "exat" || opt === "pxat") && unit === "" && !(flags & SET_KEEPTTL) && next !== undefined) {
      const n = parseInt64(next);
      if (n === null) return E.notInteger;
      if (typeof n === "bigint" || n <= 0) return E.invalidExpire("set");
      unit = opt;
      amount = n;
      i++;
    } else {
      return E.syntax;
    }
  }
  let expireAtMs = -1;
  if (unit !== "") {
    const ms = unit === "ex" || unit === "exat" ? amount * 1000 : amount;
    if (!Number.isSafeInteger(ms)) return E.invalidExpire("set");
    expireAtMs = unit === "ex" || unit === "px" ? ms + ctx.now : ms;
    if (!Number.isSafeInteger(expireAtMs)) return E.invalidExpire("set");
  }
  return { flags, expireAtMs };
}

/**
 * Stores `value` under SET's rules and emits the canonical effect:
 * `SET k v` / `SET k v KEEPTTL` / `SET k v PXAT ms`, or `DEL k` for a past expiry.
 */
export function setWithOptions(ctx: Ctx, key: string, value: string, o: SetOptions): Reply | null {
  const old = ctx.lookupWrite(key);
  let oldReply: Reply = NULL;
  if (o.flags & SET_GET) {
    if (old !== undefined && typeof old !== "string") return E.wrongType;
    if (old !== undefined) oldReply = bulk(old);
  }
  if ((o.flags & SET_NX && old !== undefined) || (o.flags & SET_XX && old === undefined)) {
    return o.flags & SET_GET ? oldReply : null;
  }
  ctx.dirty++;
  if (o.expireAtMs >= 0 && ctx.isPast(o.expireAtMs)) {
    if (ctx.deleteKey(key) || old !== undefined) ctx.emit(["DEL", key]);
    return o.flags & SET_GET ? oldReply : OK;
  }
  ctx.setKey(key, value, (o.flags & SET_KEEPTTL) !== 0);
  if (o.expireAtMs >= 0) {
    ctx.setExpire(key, o.expireAtMs);
    ctx.emit(["SET", key, value, "PXAT", String(o.expireAtMs)]);
  } else if (o.flags & SET_KEEPTTL) {
    ctx.emit(["SET", key, value, "KEEPTTL"]);
  } else {
    ctx.emit(["SET", key, value]);
  }
  return o.flags & SET_GET ? oldReply : OK;
}

function set(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  const value = argv[2] ?? "";
  if (argv.length === 3) {
    // The common case, kept allocation-free apart from the effect.
    ctx.lookupWrite(key);
    ctx.setKey(key, value);
    ctx.dirty++;
    ctx.emit(argv);
    return OK;
  }
  const o = parseSetOptions(ctx, argv, 3);
  if ("kind" in o) return o;
  const r = setWithOptions(ctx, key, value, o);
  return r ?? NULL;
}

export const STRING_COMMANDS: readonly CommandSpec[] = [
  { name: "get", arity: 2, flags: ["readonly", "fast"], keys: [1, 1, 1], group: "string", run: get },
  { name: "set", arity: -3, flags: ["write", "denyoom"], keys: [1, 1, 1], effects: "explicit", group: "string", run: set },
];
