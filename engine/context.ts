// What a command handler sees: the session, its database, the time frozen for
// this command, keyspace access with expiry rules, and the effect sink.
import type { Reply } from "../resp/reply";
import type { BlockRequest } from "./blocking";
import type { Db } from "./db";
import type { Engine } from "./engine";
import type { Session } from "./session";
import type { Value } from "./value";

/** One write, in canonical deterministic form, applied to database `db`. */
export interface Effect {
  readonly db: number;
  readonly argv: readonly string[];
}

/**
 * - "primary": a logically expired key is deleted on access and a DEL is emitted;
 * - "replica": a logically expired key reads as missing but stays until the
 *   primary's DEL arrives;
 * - "apply": applying effects; time is not consulted at all.
 */
export type ExpiryMode = "primary" | "replica" | "apply";

export class Ctx {
  session!: Session;
  db!: Db;
  /** Unix ms, read once per command (once per EXEC). */
  now = 0;
  /** Count of dataset changes made by the running command (Redis's server.dirty). */
  dirty = 0;
  mode: ExpiryMode = "primary";

  constructor(readonly engine: Engine) {}

  /** True when `atMs` counts as already past for a write (never while applying). */
  isPast(atMs: number): boolean {
    return this.mode !== "apply" && atMs <= this.now;
  }

  /** Returns true when `key` is logically expired; in primary mode, deletes it. */
  expireIfNeeded(db: Db, key: string): boolean {
    if (this.mode === "apply") return false;
    const at = db.expires.get(key);
    if (at === undefined || at > this.now) return false;
    if (this.mode === "replica") return true;
    db.data.delete(key);
    db.expires.delete(key);
    this.engine.stats.expiredKeys++;
    this.engine.emitIn(db.id, ["DEL", key]);
    this.engine.keyModified(db, key);
    return true;
  }

  lookupIn(db: Db, key: string): Value | undefined {
    const v = db.data.get(key);
    if (v === undefined) return undefined;
    if (db.expires.size !== 0 && this.expireIfNeeded(db, key)) return undefined;
    return v;
  }

  /** Lookup for a read: counts keyspace hits and misses. */
  lookupRead(key: string): Value | undefined {
    const v = this.lookupIn(this.db, key);
    if (v === undefined) this.engine.stats.keyspaceMisses++;
    else this.engine.stats.keyspaceHits++;
    return v;
  }

  lookupWrite(key: string): Value | undefined {
    return this.lookupIn(this.db, key);
  }

  exists(key: string): boolean {
    return this.lookupIn(this.db, key) !== undefined;
  }

  /** Stores `value` at `key`, dropping any TTL unless keepTtl. Signals the change. */
  setKey(key: string, value: Value, keepTtl = false): void {
    this.setKeyIn(this.db, key, value, keepTtl);
  }

  setKeyIn(db: Db, key: string, value: Value, keepTtl = false): void {
    db.data.set(key, value);
    if (!keepTtl && db.expires.size !== 0) db.expires.delete(key);
    this.engine.keyModified(db, key);
  }

  /** Deletes `key` if present (ignoring expiry). Signals the change. */
  deleteKey(key: string): boolean {
    return this.deleteKeyIn(this.db, key);
  }

  deleteKeyIn(db: Db, key: string): boolean {
    if (!db.data.delete(key)) return false;
    db.expires.delete(key);
    this.engine.keyModified(db, key);
    return true;
  }

  setExpire(key: string, atMs: number): void {
    this.db.expires.set(key, atMs);
  }

  /** Absolute expire time in ms, or undefined when the key has none. */
  getExpire(key: string): number | undefined {
    return this.db.expires.get(key);
  }

  /** Signals that `key` changed in the current db (WATCH, later the tracker and blocked clients). */
  touch(key: string): void {
    this.engine.keyModified(this.db, key);
  }

  /**
   * True when effects are recorded (a durable primary); a command whose
   * effect takes work to build can skip it otherwise (a standalone server).
   */
  get recording(): boolean {
    return this.engine.recordEffects;
  }

  /** Records an explicit effect in the current db. */
  emit(argv: readonly string[]): void {
    this.engine.emitIn(this.db.id, argv);
  }

  /**
   * Blocks the client until a key in `req.keys` can serve it (the engine re-runs
   * `req.argv` then) or the deadline passes. Inside EXEC, or while applying
   * effects, answers `req.timeoutReply` at once instead.
   */
  block(req: BlockRequest): Reply {
    return this.engine.blocking.block(this.session, this.db.id, req, this.engine.nested || this.mode === "apply");
  }

  random(): number {
    return this.engine.random();
  }
}
