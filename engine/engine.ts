// The engine: databases, the command table and dispatch. It executes a command
// and returns its reply; every write also leaves canonical effects, which
// replicas and the snapshotter apply with the same engine.
import { performance } from "node:perf_hooks";
import { NONE, QUEUED, type Reply } from "../resp/reply";
import { assert, AssertionError } from "./assert";
import { Blocking } from "./blocking";
import { Command, CommandTable, F_NO_AUTH, F_NO_MULTI, F_WRITE, type CommandSpec } from "./command";
import { Config } from "./config";
import { Ctx, type Effect, type ExpiryMode } from "./context";
import { Db } from "./db";
import { datasetChecksum, datasetDigest } from "./digest";
import { E } from "./errors";
import { PARAMS } from "./params";
import { Session } from "./session";
import { Stats } from "./stats";
import { ALL_COMMANDS } from "./commands";
import { unwatchAll } from "./commands/multi";

export interface EngineOptions {
  /** Unix ms; read once per command. */
  clock?: () => number;
  /** Uniform [0, 1); injected so simulations replay. */
  random?: () => number;
  /** "primary" expires keys and emits DEL; "replica" never expires keys itself. */
  role?: "primary" | "replica";
  /** Collect effects (off for a standalone server that has no log). */
  recordEffects?: boolean;
}

export interface ExecResult {
  readonly reply: Reply;
  /** The writes the command made, in order; one atomic unit. */
  readonly effects: readonly Effect[];
}

/** Keys one active-expiry cycle examines per db at most. */
const EXPIRE_CHECKS_PER_DB_MAX = 10_000;

/** Commands that run immediately even inside MULTI. */
const MULTI_CONTROL = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

export class Engine {
  readonly dbs: Db[];
  readonly table = new CommandTable();
  readonly config = new Config(PARAMS);
  readonly stats = new Stats();
  readonly blocking: Blocking = new Blocking(this);
  readonly clock: () => number;
  readonly random: () => number;
  role: "primary" | "replica";
  recordEffects: boolean;
  private effects: Effect[] = [];
  private readonly ctx: Ctx;
  /** Depth of nested calls (EXEC runs its queued commands through `call`). */
  private depth = 0;
  private readonly defaultSession: Session;
  /** Where each db's active-expiry walk resumes. */
  private readonly expireCursors = new Map<number, Iterator<[string, number]>>();
  /**
   * The wall-clock time shared by the commands of one batch of requests (see
   * beginTurn), or -1 when each command reads the clock itself.
   */
  private turnNowMs = -1;
  /** performance.now() when turnNowMs was read. */
  private turnReadAt = 0;
  /** performance.now() when the previous command of this turn finished (-1 outside a turn). */
  private lastDoneAt = -1;
  /** Called after every executed command with its duration (commandstats, slow log, MONITOR). */
  onCommandDone: ((cmd: Command, session: Session, argv: readonly string[], usec: number, mode: ExpiryMode) => void) | null = null;
  /** Called when an effect is recorded while none were pending (the durable server seals a batch per turn). */
  onFirstEffect: (() => void) | null = null;
  /** Called for every changed key (the server's tracker and blocked clients hook in here). */
  keyListeners: ((db: number, key: string) => void)[] = [];

  constructor(opts: EngineOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.role = opts.role ?? "primary";
    this.recordEffects = opts.recordEffects ?? true;
    const n = this.config.getInt("databases");
    this.dbs = [];
    for (let i = 0; i < n; i++) this.dbs.push(new Db(i));
    this.ctx = new Ctx(this);
    this.table.register(ALL_COMMANDS);
    this.defaultSession = this.newSession();
  }

  /**
   * A connection's bytes arrived at `nowMs`: the requests in them were all
   * sent before that instant, on this machine's clock, so they run at that
   * time (Redis reads the clock per command; a timestamp a client put in a
   * request is never ahead of it either way). The time is read again once a
   * millisecond of work has passed, so a long batch never runs on a stale
   * clock. Each command's duration is measured from the end of the previous
   * one in the batch (its parsing included): one clock read per command.
   */
  beginTurn(nowMs: number): void {
    this.turnNowMs = nowMs;
    this.turnReadAt = this.lastDoneAt = performance.now();
  }

  endTurn(): void {
    this.turnNowMs = -1;
    this.lastDoneAt = -1;
  }

  /** Adds commands (the server layer registers CLIENT, HELLO, ... this way). */
  register(specs: readonly CommandSpec[]): void {
    this.table.register(specs);
  }

  newSession(): Session {
    return new Session({ authenticated: this.config.get("requirepass") === "", nowMs: this.clock() });
  }

  db(index: number): Db {
    const db = this.dbs[index];
    if (db === undefined) throw new AssertionError(`db ${index} out of range`);
    return db;
  }

  /** Runs one command for `session` and returns its reply and effects (embedding API). */
  execute(argv: readonly string[], session: Session = this.defaultSession): ExecResult {
    const start = this.effects.length;
    const reply = this.call(session, argv as string[]);
    const effects = this.recordEffects ? this.effects.splice(start) : [];
    return { reply, effects };
  }

  /** Takes the effects recorded since the last take (the server's batch). */
  takeEffects(): Effect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }

  /** Applies effects produced by a primary, in order, never consulting the clock. */
  apply(effects: readonly Effect[]): void {
    const session = this.defaultSession;
    const savedDb = session.db;
    const savedMode = this.ctx.mode;
    // Effects of applied effects are the input itself: record nothing new.
    const savedRecord = this.recordEffects;
    this.recordEffects = false;
    try {
      for (const e of effects) {
        session.db = e.db;
        const r = this.run(session, e.argv as string[], "apply");
        if (r.kind === "error") throw new AssertionError(`effect failed: ${e.argv.join(" ")}: ${r.message}`);
      }
    } finally {
      session.db = savedDb;
      this.ctx.mode = savedMode;
      this.recordEffects = savedRecord;
    }
  }

  emitIn(db: number, argv: readonly string[]): void {
    if (!this.recordEffects) return;
    this.effects.push({ db, argv });
    if (this.effects.length === 1 && this.onFirstEffect !== null) this.onFirstEffect();
  }

  /** Effects recorded and not yet taken. */
  get effectsPending(): number {
    return this.effects.length;
  }

  keyModified(db: Db, key: string): void {
    db.touchWatched(key);
    if (this.blocking.size !== 0) this.blocking.signal(db.id, key);
    for (const fn of this.keyListeners) fn(db.id, key);
  }

  /** The dispatcher: lookup, arity, auth, MULTI queueing, then run. */
  call(session: Session, argv: string[]): Reply {
    const name = argv[0];
    if (name === undefined) return NONE;
    const cmd = this.table.lookup(name);
    if (cmd === undefined) {
      return this.reject(session, E.unknownCommand(name, argv.slice(1)));
    }
    const resolved = this.resolve(cmd, argv);
    if (!(resolved instanceof Command)) return this.reject(session, resolved);
    const c = resolved;
    session.lastCommand = c.fullName;
    if (!session.authenticated && !c.has(F_NO_AUTH)) {
      c.rejectedCalls++;
      return this.reject(session, E.noAuth);
    }
    if (session.multi !== null && !(c.parent === null && MULTI_CONTROL.has(c.spec.name))) {
      if (c.has(F_NO_MULTI)) {
        c.rejectedCalls++;
        return this.reject(session, E.generic("Command not allowed inside a transaction"));
      }
      session.multi.push(argv.slice());
      return QUEUED;
    }
    const reply = this.run(session, argv, this.role === "replica" ? "replica" : "primary", c);
    if (this.blocking.hasReady()) this.blocking.serveReady();
    return reply;
  }

  /** True while a command runs inside another (EXEC): blocking commands must not block. */
  get nested(): boolean {
    return this.depth > 1;
  }

  /** Resolves a container command (CONFIG GET ...) and checks arity. */
  private resolve(cmd: Command, argv: string[]): Command | Reply {
    if (!arityOk(cmd.spec.arity, argv.length)) {
      cmd.rejectedCalls++;
      return E.wrongArity(cmd.fullName);
    }
    if (cmd.subs === null) return cmd;
    const subName = argv[1];
    if (subName === undefined) return E.wrongArity(cmd.fullName);
    const sub = cmd.subs.get(subName.toLowerCase());
    if (sub === undefined) return E.unknownSubcommand(subName, cmd.spec.name);
    if (!arityOk(sub.spec.arity, argv.length)) {
      sub.rejectedCalls++;
      return E.wrongArity(sub.fullName);
    }
    return sub;
  }

  private reject(session: Session, e: Reply): Reply {
    if (session.multi !== null) session.multiError = true;
    if (e.kind === "error") this.stats.countError(e.message);
    return e;
  }

  /** Executes an already-resolved command with the time frozen for it. */
  run(session: Session, argv: string[], mode: ExpiryMode, resolved?: Command): Reply {
    let c = resolved;
    if (c === undefined) {
      const name = argv[0];
      const found = name === undefined ? undefined : this.table.lookup(name);
      if (found === undefined) return E.unknownCommand(name ?? "", argv.slice(1));
      const r = this.resolve(found, argv);
      if (!(r instanceof Command)) return r;
      c = r;
    }
    const run = c.spec.run;
    if (run === undefined) throw new AssertionError(`command ${c.fullName} has no handler`);
    const ctx = this.ctx;
    const outer = this.depth === 0;
    const savedSession = ctx.session;
    const savedDb = ctx.db;
    const savedDirty = ctx.dirty;
    const inTurn = outer && this.turnNowMs >= 0;
    if (outer) {
      ctx.now = inTurn ? this.turnNowMs : this.clock();
      ctx.mode = mode;
    }
    ctx.session = session;
    ctx.db = this.db(session.db);
    ctx.dirty = 0;
    this.depth++;
    const hook = this.onCommandDone;
    const t0 = inTurn ? this.lastDoneAt : hook === null ? 0 : performance.now();
    let reply: Reply;
    try {
      reply = run(ctx, argv);
    } finally {
      this.depth--;
    }
    if (hook !== null || inTurn) {
      const t1 = performance.now();
      if (inTurn) {
        this.lastDoneAt = t1;
        if (t1 - this.turnReadAt >= 1) {
          this.turnNowMs = this.clock();
          this.turnReadAt = t1;
        }
      }
      if (hook !== null) hook(c, session, argv, Math.round((t1 - t0) * 1000), mode);
    }
    const dirty = ctx.dirty;
    if (dirty > 0) {
      this.stats.dirty += dirty;
      if (c.effects === "verbatim") this.emitIn(ctx.db.id, argv);
    }
    if (!outer) {
      ctx.session = savedSession;
      ctx.db = savedDb;
      ctx.dirty = savedDirty + dirty;
    }
    // A command that blocked counts once, when it is finally served or times out.
    if (this.blocking.size === 0 || !this.blocking.isBlocked(session)) c.calls++;
    this.stats.totalCommands++;
    if (reply.kind === "error") {
      c.failedCalls++;
      this.stats.countError(reply.message);
    }
    return reply;
  }

  /** A client went away: drop its watches and any other per-session state. */
  forgetSession(session: Session): void {
    this.ctx.session = session;
    unwatchAll(this.ctx, session);
    session.multi = null;
    this.blocking.remove(session);
  }

  /**
   * Deletes expired keys found by walking each db's expires in insertion order
   * from where the last cycle stopped, for at most `budgetMs`. The primary emits
   * a DEL for each; a replica never expires keys itself.
   */
  activeExpireCycle(budgetMs: number): number {
    if (this.role !== "primary") return 0;
    const started = this.clock();
    const ctx = this.ctx;
    ctx.now = started;
    ctx.mode = "primary";
    let deleted = 0;
    for (const db of this.dbs) {
      if (db.expires.size === 0) continue;
      let checked = 0;
      for (;;) {
        let it = this.expireCursors.get(db.id);
        if (it === undefined) {
          it = db.expires.entries();
          this.expireCursors.set(db.id, it);
        }
        const next = it.next();
        if (next.done === true) {
          this.expireCursors.delete(db.id);
          break;
        }
        const [key, at] = next.value;
        if (at <= ctx.now && ctx.expireIfNeeded(db, key)) deleted++;
        if (++checked % 64 === 0 && this.clock() - started >= budgetMs) return deleted;
        if (checked >= EXPIRE_CHECKS_PER_DB_MAX) break;
      }
    }
    return deleted;
  }

  /** Counts the call of a blocked command that was served or timed out. */
  countBlockedCall(argv: readonly string[]): void {
    const name = argv[0];
    const c = name === undefined ? undefined : this.table.lookup(name);
    if (c !== undefined) c.calls++;
  }

  /** True when the command may change the dataset (replicas refuse these). */
  isWrite(argv: readonly string[]): boolean {
    const name = argv[0];
    if (name === undefined) return false;
    const c = this.table.lookup(name);
    return c !== undefined && c.has(F_WRITE);
  }

  /** DEBUG DIGEST: 40 hex chars over every db's keys, values and expire times (zeros when empty). */
  digest(): string {
    return datasetDigest(this.dbs);
  }

  /**
   * The dataset checksum: like digest() (same parts, same order independence)
   * with a fast non-cryptographic hash; what snapshots record and verify.
   */
  checksum(): string {
    return datasetChecksum(this.dbs);
  }
}

function arityOk(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}
