// Expiry commands (Redis's expire.c): EXPIRE PEXPIRE EXPIREAT PEXPIREAT
// (NX XX GT LT), TTL PTTL EXPIRETIME PEXPIRETIME, PERSIST.
//
// Every EXPIRE-family write leaves `PEXPIREAT key <absolute ms>`; a time at or
// before now deletes the key and leaves `DEL key` (never while applying
// effects: ctx.isPast is false then, so the replayed PEXPIREAT just sets it).
import { err, int, ONE, ZERO, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { INT64_MAX, INT64_MIN, parseInt64 } from "../num";
import { peekKey } from "./keys";

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;

function parseExpireFlags(argv: string[]): number | Reply {
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j] ?? "";
    switch (opt.toLowerCase()) {
      case "nx":
        flags |= EXPIRE_NX;
        break;
      case "xx":
        flags |= EXPIRE_XX;
        break;
      case "gt":
        flags |= EXPIRE_GT;
        break;
      case "lt":
        flags |= EXPIRE_LT;
        break;
      default:
        return err(`ERR Unsupported option ${opt}`);
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    return err("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) return err("ERR GT and LT options at the same time are not compatible");
  return flags;
}

/** Largest |value| for which seconds * 1000 + now stays exact in a double. */
const FAST_PATH_MAX = 1e12;

/**
 * The absolute expire time in ms for `amount` (seconds when unitSec) added
 * to `baseMs`, with Redis's int64 overflow checks; null when it overflows.
 */
function absoluteMs(amount: number | bigint, unitSec: boolean, baseMs: number): number | null {
  if (typeof amount === "number" && Math.abs(amount) < FAST_PATH_MAX) {
    return (unitSec ? amount * 1000 : amount) + baseMs;
  }
  let when = BigInt(amount);
  if (unitSec) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) return null;
    when *= 1000n;
  }
  if (when > INT64_MAX - BigInt(baseMs)) return null;
  return Number(when + BigInt(baseMs));
}

/** An absolute ms time as an int64 text that parses back to the same double. */
export function formatMs(ms: number): string {
  if (Number.isSafeInteger(ms)) return String(ms);
  let b = BigInt(ms);
  if (b > INT64_MAX) b = INT64_MAX;
  if (b < INT64_MIN) b = INT64_MIN;
  return b.toString();
}

/** False when NX/XX/GT/LT forbid replacing `current` (undefined: no TTL) with `when`. */
function flagsAllow(flags: number, current: number | undefined, when: number): boolean {
  if (flags & EXPIRE_NX && current !== undefined) return false;
  if (flags & EXPIRE_XX && current === undefined) return false;
  // No TTL counts as an infinite one: GT never beats it, LT always does.
  if (flags & EXPIRE_GT && (current === undefined || when <= current)) return false;
  if (flags & EXPIRE_LT && current !== undefined && when >= current) return false;
  return true;
}

function expireGeneric(ctx: Ctx, argv: string[], name: string, relative: boolean, unitSec: boolean): Reply {
  const key = argv[1] ?? "";
  const flags = parseExpireFlags(argv);
  if (typeof flags !== "number") return flags;
  const amount = parseInt64(argv[2] ?? "");
  if (amount === null) return E.notInteger;
  const when = absoluteMs(amount, unitSec, relative ? ctx.now : 0);
  if (when === null) return E.invalidExpire(name);
  if (ctx.lookupWrite(key) === undefined) return ZERO;
  if (flags !== 0 && !flagsAllow(flags, ctx.getExpire(key), when)) return ZERO;
  ctx.dirty++;
  if (ctx.isPast(when)) {
    ctx.deleteKey(key);
    ctx.emit(["DEL", key]);
    return ONE;
  }
  ctx.setExpire(key, when);
  ctx.touch(key);
  ctx.emit(["PEXPIREAT", key, formatMs(when)]);
  return ONE;
}

function expire(ctx: Ctx, argv: string[]): Reply {
  return expireGeneric(ctx, argv, "expire", true, true);
}

function pexpire(ctx: Ctx, argv: string[]): Reply {
  return expireGeneric(ctx, argv, "pexpire", true, false);
}

function expireat(ctx: Ctx, argv: string[]): Reply {
  return expireGeneric(ctx, argv, "expireat", false, true);
}

function pexpireat(ctx: Ctx, argv: string[]): Reply {
  return expireGeneric(ctx, argv, "pexpireat", false, false);
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 no key, -1 no TTL, else the (rounded) time. */
function ttlGeneric(ctx: Ctx, argv: string[], ms: boolean, absolute: boolean): Reply {
  const key = argv[1] ?? "";
  if (peekKey(ctx, key) === undefined) return int(-2);
  const at = ctx.getExpire(key);
  if (at === undefined) return int(-1);
  const t = Math.max(0, absolute ? at : at - ctx.now);
  return int(ms ? t : Math.floor((t + 500) / 1000));
}

function ttl(ctx: Ctx, argv: string[]): Reply {
  return ttlGeneric(ctx, argv, false, false);
}

function pttl(ctx: Ctx, argv: string[]): Reply {
  return ttlGeneric(ctx, argv, true, false);
}

function expiretime(ctx: Ctx, argv: string[]): Reply {
  return ttlGeneric(ctx, argv, false, true);
}

function pexpiretime(ctx: Ctx, argv: string[]): Reply {
  return ttlGeneric(ctx, argv, true, true);
}

function persist(ctx: Ctx, argv: string[]): Reply {
  const key = argv[1] ?? "";
  if (ctx.lookupWrite(key) === undefined || !ctx.db.expires.delete(key)) return ZERO;
  ctx.touch(key);
  ctx.dirty++;
  return ONE;
}

const KEY1: readonly [number, number, number] = [1, 1, 1];

export const EXPIRE_COMMANDS: readonly CommandSpec[] = [
  { name: "expire", arity: -3, flags: ["write", "fast"], keys: KEY1, effects: "explicit", group: "generic", since: "1.0.0", summary: "Set a key's time to live in seconds", run: expire },
  { name: "pexpire", arity: -3, flags: ["write", "fast"], keys: KEY1, effects: "explicit", group: "generic", since: "2.6.0", summary: "Set a key's time to live in milliseconds", run: pexpire },
  { name: "expireat", arity: -3, flags: ["write", "fast"], keys: KEY1, effects: "explicit", group: "generic", since: "1.2.0", summary: "Set the expiration for a key as a UNIX timestamp", run: expireat },
  { name: "pexpireat", arity: -3, flags: ["write", "fast"], keys: KEY1, effects: "explicit", group: "generic", since: "2.6.0", summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", run: pexpireat },
  { name: "ttl", arity: 2, flags: ["readonly", "fast"], keys: KEY1, group: "generic", since: "1.0.0", summary: "Get the time to live for a key in seconds", run: ttl },
  { name: "pttl", arity: 2, flags: ["readonly", "fast"], keys: KEY1, group: "generic", since: "2.6.0", summary: "Get the time to live for a key in milliseconds", run: pttl },
  { name: "expiretime", arity: 2, flags: ["readonly", "fast"], keys: KEY1, group: "generic", since: "7.0.0", summary: "Get the expiration Unix timestamp for a key", run: expiretime },
  { name: "pexpiretime", arity: 2, flags: ["readonly", "fast"], keys: KEY1, group: "generic", since: "7.0.0", summary: "Get the expiration Unix timestamp for a key in milliseconds", run: pexpiretime },
  { name: "persist", arity: 2, flags: ["write", "fast"], keys: KEY1, group: "generic", since: "2.2.0", summary: "Remove the expiration from a key", run: persist },
];
