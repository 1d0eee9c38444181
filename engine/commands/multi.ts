// Transactions: MULTI EXEC DISCARD WATCH UNWATCH. EXEC runs the queued commands
// with one frozen time, and their effects form one atomic batch.
import { array, NULL_ARRAY, OK, type Reply } from "../../resp/reply";
import type { CommandSpec } from "../command";
import type { Ctx } from "../context";
import { E } from "../errors";
import type { Session } from "../session";

function multi(ctx: Ctx): Reply {
  const s = ctx.session;
  if (s.multi !== null) return E.nestedMulti;
  s.multi = [];
  s.multiError = false;
  return OK;
}

function discardState(s: Session): void {
  s.multi = null;
  s.multiError = false;
}

export function unwatchAll(ctx: Ctx, s: Session): void {
  for (const wk of s.watched) {
    const db = ctx.engine.dbs[wk.db];
    const set = db?.watchers.get(wk.key);
    if (set === undefined || db === undefined) continue;
    set.delete(s);
    if (set.size === 0) db.watchers.delete(wk.key);
  }
  s.watched = [];
  s.watchDirty = false;
}

/** A watched key that was live at WATCH time and has expired since makes EXEC fail. */
function watchedKeyExpired(ctx: Ctx, s: Session): boolean {
  for (const wk of s.watched) {
    if (wk.expired) continue;
    const db = ctx.engine.dbs[wk.db];
    if (db !== undefined && db.isExpired(wk.key, ctx.now)) return true;
  }
  return false;
}

function exec(ctx: Ctx): Reply {
  const s = ctx.session;
  const queued = s.multi;
  if (queued === null) return E.execWithoutMulti;
  if (s.multiError) {
    discardState(s);
    unwatchAll(ctx, s);
    return E.execAbort;
  }
  if (s.watchDirty || watchedKeyExpired(ctx, s)) {
    discardState(s);
    unwatchAll(ctx, s);
    return NULL_ARRAY;
  }
  discardState(s);
  unwatchAll(ctx, s);
  const replies: Reply[] = [];
  const engine = ctx.engine;
  for (const argv of queued) {
    replies.push(engine.run(s, argv, ctx.mode));
  }
  return array(replies);
}

function discard(ctx: Ctx): Reply {
  const s = ctx.session;
  if (s.multi === null) return E.discardWithoutMulti;
  discardState(s);
  unwatchAll(ctx, s);
  return OK;
}

function watch(ctx: Ctx, argv: string[]): Reply {
  const s = ctx.session;
  if (s.multi !== null) return E.watchInMulti;
  const db = ctx.db;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i] ?? "";
    if (s.watched.some((wk) => wk.db === db.id && wk.key === key)) continue;
    s.watched.push({ db: db.id, key, expired: db.isExpired(key, ctx.now) });
    let set = db.watchers.get(key);
    if (set === undefined) {
      set = new Set();
      db.watchers.set(key, set);
    }
    set.add(s);
  }
  return OK;
}

function unwatch(ctx: Ctx): Reply {
  unwatchAll(ctx, ctx.session);
  return OK;
}

export const MULTI_COMMANDS: readonly CommandSpec[] = [
  { name: "multi", arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"], group: "transactions", run: multi },
  { name: "exec", arity: 1, flags: ["noscript", "loading", "stale", "skip_slowlog"], group: "transactions", run: exec },
  { name: "discard", arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"], group: "transactions", run: discard },
  { name: "watch", arity: -2, flags: ["noscript", "loading", "stale", "fast", "allow_busy"], keys: [1, -1, 1], group: "transactions", run: watch },
  { name: "unwatch", arity: 1, flags: ["noscript", "loading", "stale", "fast", "allow_busy"], group: "transactions", run: unwatch },
];
