// Commands that need the server, not just the engine: QUIT and friends.
import { OK, type Reply } from "../resp/reply";
import type { CommandSpec } from "../engine/command";
import type { Ctx } from "../engine/context";
import type { Server } from "./server";

export function serverCommands(server: Server): CommandSpec[] {
  const connOf = (ctx: Ctx) => server.clients.get(ctx.session.id);
  return [
    {
      name: "quit",
      arity: -1,
      flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"],
      group: "connection",
      run: (ctx): Reply => {
        const conn = connOf(ctx);
        if (conn !== undefined) conn.closing = true;
        return OK;
      },
    },
  ];
}
