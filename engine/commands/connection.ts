// Connection commands the engine can answer alone: PING ECHO SELECT.
import { bulk, OK, PONG, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import { parseSafeInt } from "../num";

function ping(ctx: Ctx, argv: string[]): Reply {
  if (argv.length > 2) return E.wrongArity("ping");
  const msg = argv[1];
  return msg === undefined ? PONG : bulk(msg);
}

function echo(_ctx: Ctx, argv: string[]): Reply {
  return bulk(argv[1] ?? "");
}

function select(ctx: Ctx, argv: string[]): Reply {
  const id = parseSafeInt(argv[1] ?? "");
  if (id === null) return E.notInteger;
  if (id < 0 || id >= ctx.engine.dbs.length) return E.dbIndexOutOfRange;
  ctx.session.db = id;
  ctx.db = ctx.engine.db(id);
  return OK;
}

export const CONNECTION_COMMANDS: readonly CommandSpec[] = [
  { name: "ping", arity: -1, flags: ["fast", "sentinel"], group: "connection", run: ping },
  { name: "echo", arity: 2, flags: ["fast"], group: "connection", run: echo },
  { name: "select", arity: 2, flags: ["loading", "stale", "fast"], group: "connection", run: select },
];
