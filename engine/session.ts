// Per-client state the engine needs: selected db, protocol, transaction,
// watched keys, authentication. The server keeps socket state elsewhere.
import type { Protocol } from "../resp/encoder";

export interface WatchedKey {
  readonly db: number;
  readonly key: string;
  /** The key was already logically expired when WATCH was called (a "stale" key). */
  expired: boolean;
}

let nextSessionId = 1;

export class Session {
  readonly id: number;
  db = 0;
  resp: Protocol = 2;
  name = "";
  authenticated: boolean;
  user = "default";
  /** Queued commands while in MULTI, else null. */
  multi: string[][] | null = null;
  /** A command failed to queue: EXEC must abort. */
  multiError = false;
  watched: WatchedKey[] = [];
  /** A watched key was touched: EXEC must fail. */
  watchDirty = false;
  /** CLIENT REPLY: "on", "off", or "skip" (skip the next reply only). */
  replyMode: "on" | "off" | "skip" = "on";
  /** CLIENT NO-EVICT: exempt from client eviction (flag "e" in CLIENT LIST). */
  noEvict = false;
  /** After READONLY (cluster): reads allowed on a replica. */
  readonlyMode = false;
  libName = "";
  libVersion = "";
  /** Last command's full name ("get", "client|list"), for CLIENT LIST. */
  lastCommand = "NULL";
  readonly createdAtMs: number;
  lastInteractionMs: number;
  /** Opaque slot for the server layer (connection handle). */
  conn: unknown = null;

  constructor(opts: { authenticated: boolean; nowMs: number; id?: number }) {
    this.id = opts.id ?? nextSessionId++;
    this.authenticated = opts.authenticated;
    this.createdAtMs = opts.nowMs;
    this.lastInteractionMs = opts.nowMs;
  }
}
