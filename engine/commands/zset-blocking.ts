// Blocking sorted-set pops: BZPOPMIN BZPOPMAX BZMPOP. They serve at once like
// ZPOPMIN/ZPOPMAX/ZMPOP when a key holds members, else block until one does
// (engine/blocking.ts). The effect of a served pop is the ZREM of what it took.
import { array, bulk, double, NULL_ARRAY, type Reply } from "../../resp/reply";
import { numkeysKeys, type CommandSpec } from "../command";
import type { Ctx } from "../context";
import { parseTimeoutSeconds } from "./list-blocking";
import { parseZmpopArgs, popCandidate, popFrom, zmpopReply, type PopWhere } from "./zset";

function bzpop(ctx: Ctx, argv: string[], where: PopWhere): Reply {
  const deadline = parseTimeoutSeconds(ctx, argv[argv.length - 1] ?? "");
  if (typeof deadline !== "number") return deadline;
  const keys = argv.slice(1, -1);
  const c = popCandidate(ctx, keys);
  if (c !== null && "kind" in c) return c;
  if (c === null) return ctx.block({ keys, type: "zset", deadlineMs: deadline, timeoutReply: NULL_ARRAY, argv });
  const p = popFrom(ctx, c.key, c.z, where, 1);
  const items: Reply[] = [bulk(p.key)];
  for (const e of p.entries) items.push(bulk(e.member), double(e.score));
  return array(items);
}

function bzmpop(ctx: Ctx, argv: string[]): Reply {
  const deadline = parseTimeoutSeconds(ctx, argv[1] ?? "");
  if (typeof deadline !== "number") return deadline;
  const a = parseZmpopArgs(argv, 2);
  if ("kind" in a) return a;
  const c = popCandidate(ctx, a.keys);
  if (c !== null && "kind" in c) return c;
  if (c === null) return ctx.block({ keys: a.keys, type: "zset", deadlineMs: deadline, timeoutReply: NULL_ARRAY, argv });
  return zmpopReply(popFrom(ctx, c.key, c.z, a.where, a.count));
}

const FLAGS: CommandSpec["flags"] = ["write", "noscript", "blocking", "fast"];

export const ZSET_BLOCKING_COMMANDS: readonly CommandSpec[] = [
  { name: "bzpopmin", arity: -3, flags: FLAGS, keys: [1, -2, 1], effects: "explicit", group: "sorted-set", run: (c, a) => bzpop(c, a, "min") },
  { name: "bzpopmax", arity: -3, flags: FLAGS, keys: [1, -2, 1], effects: "explicit", group: "sorted-set", run: (c, a) => bzpop(c, a, "max") },
  { name: "bzmpop", arity: -5, flags: ["write", "blocking"], keys: [0, 0, 0], getKeys: numkeysKeys(2), effects: "explicit", group: "sorted-set", run: bzmpop },
];
