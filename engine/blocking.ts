// Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...).
//
// A blocking command that finds nothing to serve registers here and replies
// nothing. When a command (or a whole EXEC) that changed one of its keys has
// finished, the engine re-runs the blocked command for the clients waiting on
// that key, first blocked first served; a client whose re-run finds nothing
// again keeps its place. Timeouts are driven by the server through timeout().
import { NONE, type Reply } from "../resp/reply";
import { assert } from "./assert";
import type { Engine } from "./engine";
import type { Session } from "./session";
import type { TypeName } from "./value";

/** Rounds of serving per command at most: each round serves keys readied by the previous one. */
const SERVE_ROUNDS_MAX = 1000;

export interface BlockRequest {
  readonly keys: readonly string[];
  /** The value type that can serve this client (a key of another type does not wake it). */
  readonly type: TypeName;
  /** Absolute unix ms, or 0 to wait forever. */
  readonly deadlineMs: number;
  /** The reply on timeout (a null array for BLPOP, a null bulk for BLMOVE, ...). */
  readonly timeoutReply: Reply;
  /** The request to re-run when a key is ready (e.g. XREAD with `$` resolved). */
  readonly argv: readonly string[];
  /** Re-run also when the key is deleted or changes type (XREADGROUP answers an error then). */
  readonly wakeOnDelete?: boolean;
}

export interface BlockedClient extends BlockRequest {
  readonly session: Session;
  readonly db: number;
}

export class Blocking {
  private readonly bySession = new Map<Session, BlockedClient>();
  /** "db\0key" -> sessions in the order they blocked. */
  private readonly byKey = new Map<string, Session[]>();
  private ready: string[] = [];
  private readonly readySet = new Set<string>();
  private reprocessing: Session | null = null;
  private stillBlocked = false;
  /** The server sends `reply` to the session and resumes reading its requests. */
  onUnblock: (session: Session, reply: Reply) => void = () => undefined;
  /** The server arms the timeout of a newly blocked session. */
  onBlock: (client: BlockedClient) => void = () => undefined;

  constructor(private readonly engine: Engine) {}

  get size(): number {
    return this.bySession.size;
  }

  isBlocked(session: Session): boolean {
    return this.bySession.has(session);
  }

  blockedOn(session: Session): BlockedClient | undefined {
    return this.bySession.get(session);
  }

  /**
   * Called by a blocking command that found nothing: inside EXEC (or while
   * applying effects) it answers the timeout reply at once, as Redis does.
   */
  block(session: Session, db: number, req: BlockRequest, nested: boolean): Reply {
    if (nested) return req.timeoutReply;
    if (this.reprocessing === session) {
      this.stillBlocked = true;
      return NONE;
    }
    assert(!this.bySession.has(session), "session is already blocked");
    const client: BlockedClient = { ...req, session, db };
    this.bySession.set(session, client);
    for (const key of new Set(req.keys)) {
      const k = slot(db, key);
      const q = this.byKey.get(k);
      if (q === undefined) this.byKey.set(k, [session]);
      else q.push(session);
    }
    this.onBlock(client);
    return NONE;
  }

  /** A key changed: if someone waits on it, serve them after the current command. */
  signal(db: number, key: string): void {
    if (this.bySession.size === 0) return;
    const k = slot(db, key);
    if (!this.byKey.has(k) || this.readySet.has(k)) return;
    this.readySet.add(k);
    this.ready.push(k);
  }

  /** Every key of a db may have changed (SWAPDB, FLUSHDB): re-check all its waiters. */
  signalDb(db: number): void {
    if (this.bySession.size === 0) return;
    const prefix = `${db}\0`;
    for (const k of this.byKey.keys()) {
      if (!k.startsWith(prefix) || this.readySet.has(k)) continue;
      this.readySet.add(k);
      this.ready.push(k);
    }
  }

  hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** Removes a session's block without replying (disconnect). */
  remove(session: Session): BlockedClient | undefined {
    const client = this.bySession.get(session);
    if (client === undefined) return undefined;
    this.bySession.delete(session);
    for (const key of new Set(client.keys)) {
      const k = slot(client.db, key);
      const q = this.byKey.get(k);
      if (q === undefined) continue;
      const i = q.indexOf(session);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) this.byKey.delete(k);
    }
    return client;
  }

  /** Ends a block with `reply` (CLIENT UNBLOCK) or with its timeout reply. */
  unblock(session: Session, reply?: Reply): boolean {
    const client = this.remove(session);
    if (client === undefined) return false;
    this.engine.countBlockedCall(client.argv);
    this.onUnblock(session, reply ?? client.timeoutReply);
    return true;
  }

  timeout(session: Session): boolean {
    return this.unblock(session);
  }

  /** Serves clients waiting on keys readied by the command that just ran. */
  serveReady(): void {
    for (let round = 0; round < SERVE_ROUNDS_MAX && this.ready.length > 0; round++) {
      const keys = this.ready;
      this.ready = [];
      this.readySet.clear();
      for (const k of keys) this.serveKey(k);
    }
  }

  private serveKey(k: string): void {
    const queue = this.byKey.get(k);
    if (queue === undefined) return;
    const sep = k.indexOf("\0");
    const db = this.engine.db(Number(k.slice(0, sep)));
    const key = k.slice(sep + 1);
    for (const session of queue.slice()) {
      const client = this.bySession.get(session);
      if (client === undefined) continue;
      const v = db.data.get(key);
      const servable = v !== undefined && (typeof v === "string" ? "string" : v.kind) === client.type;
      if (!servable && client.wakeOnDelete !== true) continue;
      this.reprocessing = session;
      this.stillBlocked = false;
      const savedDb = session.db;
      session.db = client.db;
      let reply: Reply;
      try {
        reply = this.engine.run(session, client.argv.slice(), "primary");
      } finally {
        session.db = savedDb;
        this.reprocessing = null;
      }
      if (this.stillBlocked) continue;
      this.remove(session);
      this.engine.countBlockedCall(client.argv);
      this.onUnblock(session, reply);
    }
  }
}

function slot(db: number, key: string): string {
  return `${db}\0${key}`;
}
