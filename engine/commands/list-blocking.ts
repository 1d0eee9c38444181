// Blocking list commands: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP. Each first
// tries to serve at once with the same steps as its non-blocking form; if
// nothing can be served it blocks (see engine/blocking.ts) and is re-run when
// one of its keys receives elements. Effects are those of the non-blocking
// form: a served BLPOP is an LPOP, a BLMOVE an LMOVE.
import { array, bulk, NULL, NULL_ARRAY, type Reply } from "../../resp/reply";
import { numkeysKeys, type CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseDouble } from "../num";
import { ListObject } from "../types/list";
import { listForWrite, listMove, mpop, parseMpopArgs, popOne } from "./list";

const INT64_MAX = 9223372036854775807;

/**
 * Redis's getTimeoutFromObjectOrReply in seconds: a float, rounded up to ms;
 * returns the absolute deadline (0 = forever) or the error.
 */
export function parseTimeoutSeconds(ctx: Ctx, s: string): number | Reply {
  const secs = parseDouble(s);
  if (secs === null) return E.timeoutNotFloat;
  if (secs === -Infinity) return E.timeoutNegative;
  const ms = Math.ceil(secs * 1000);
  if (ms > INT64_MAX) return E.generic("timeout is out of range");
  if (ms < 0) return E.timeoutNegative;
  if (ms === 0) return 0;
  if (ms > INT64_MAX - ctx.now) return E.generic("timeout is out of range");
  return ctx.now + ms;
}

function isList(x: ListObject | Reply | undefined): x is ListObject {
  return x instanceof ListObject;
}

function bpop(ctx: Ctx, argv: string[], head: boolean): Reply {
  const deadline = parseTimeoutSeconds(ctx, argv[argv.length - 1] ?? "");
  if (typeof deadline !== "number") return deadline;
  const keys = argv.slice(1, -1);
  for (const key of keys) {
    const list = listForWrite(ctx, key);
    if (list === undefined) continue;
    if (!isList(list)) return list;
    if (list.length === 0) continue;
    const v = popOne(ctx, key, list, head);
    ctx.emit([head ? "LPOP" : "RPOP", key]);
    return array([bulk(key), bulk(v)]);
  }
  return ctx.block({ keys, type: "list", deadlineMs: deadline, timeoutReply: NULL_ARRAY, argv });
}

function bmoveGeneric(ctx: Ctx, argv: string[], fromHead: boolean, toHead: boolean, timeoutArg: string): Reply {
  const deadline = parseTimeoutSeconds(ctx, timeoutArg);
  if (typeof deadline !== "number") return deadline;
  const srcKey = argv[1] ?? "";
  const dstKey = argv[2] ?? "";
  const src = listForWrite(ctx, srcKey);
  if (src !== undefined && !isList(src)) return src;
  if (src === undefined || src.length === 0) {
    return ctx.block({ keys: [srcKey], type: "list", deadlineMs: deadline, timeoutReply: NULL, argv });
  }
  const v = listMove(ctx, srcKey, src, dstKey, fromHead, toHead);
  if (typeof v !== "string") return v;
  ctx.emit(["LMOVE", srcKey, dstKey, fromHead ? "LEFT" : "RIGHT", toHead ? "LEFT" : "RIGHT"]);
  return bulk(v);
}

function side(s: string): boolean | null {
  const l = s.toLowerCase();
  return l === "left" ? true : l === "right" ? false : null;
}

function blmove(ctx: Ctx, argv: string[]): Reply {
  const from = side(argv[3] ?? "");
  const to = side(argv[4] ?? "");
  if (from === null || to === null) return E.syntax;
  return bmoveGeneric(ctx, argv, from, to, argv[5] ?? "");
}

function blmpop(ctx: Ctx, argv: string[]): Reply {
  const deadline = parseTimeoutSeconds(ctx, argv[1] ?? "");
  if (typeof deadline !== "number") return deadline;
  const a = parseMpopArgs(argv, 2);
  if (!("keys" in a)) return a;
  const r = mpop(ctx, a);
  if (r.kind !== "nullArray") return r;
  return ctx.block({ keys: a.keys, type: "list", deadlineMs: deadline, timeoutReply: NULL_ARRAY, argv });
}

const FLAGS: CommandSpec["flags"] = ["write", "noscript", "blocking"];

export const LIST_BLOCKING_COMMANDS: readonly CommandSpec[] = [
  { name: "blpop", arity: -3, flags: FLAGS, keys: [1, -2, 1], effects: "explicit", group: "list", run: (c, a) => bpop(c, a, true) },
  { name: "brpop", arity: -3, flags: FLAGS, keys: [1, -2, 1], effects: "explicit", group: "list", run: (c, a) => bpop(c, a, false) },
  { name: "blmove", arity: 6, flags: ["write", "denyoom", "noscript", "blocking"], keys: [1, 2, 1], effects: "explicit", group: "list", run: blmove },
  {
    name: "brpoplpush",
    arity: 4,
    flags: ["write", "denyoom", "noscript", "blocking"],
    keys: [1, 2, 1],
    effects: "explicit",
    group: "list",
    run: (c, a) => bmoveGeneric(c, a, false, true, a[3] ?? ""),
  },
  { name: "blmpop", arity: -5, flags: FLAGS, keys: [0, 0, 0], getKeys: numkeysKeys(2), effects: "explicit", group: "list", run: blmpop },
];
