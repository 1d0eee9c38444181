// The TCP server: accepts clients, runs their requests on the engine, and
// keeps the server-wide jobs (active expiry, idle clients, client pause,
// blocked-client timeouts). No exception from a command handler reaches the
// event loop: it becomes an "ERR internal error" reply and a log line.
import { createServer, type Socket, type Server as NetServer } from "node:net";
import { performance } from "node:perf_hooks";
import { RespWriter } from "../resp/encoder";
import { err, simple, type Reply } from "../resp/reply";
import { redactForLogs } from "../engine/stats";
import { F_ADMIN, F_MAY_REPLICATE, F_NO_AUTH, F_NO_MULTI, F_WRITE, type Command, type CommandSpec } from "../engine/command";
import { Engine } from "../engine/engine";
import type { Session } from "../engine/session";
import type { ExpiryMode } from "../engine/context";
import { arityOk, resolveCommand } from "../engine/commands/server";
import { Connection, HOLD, type Blocker, type ConnectionHost, type Hold } from "./connection";
import { serverCommands } from "./commands";
import { clusterCommands } from "./cluster-commands";
import { readIntoSharedBuffer } from "./shared-read";

export interface ServerOptions {
  port: number;
  host?: string;
  engine?: Engine;
  /** Log lines go here (stdout by default). */
  log?: (line: string) => void;
  /** Called once SHUTDOWN has closed everything; the CLI exits the process here. */
  onShutdown?: () => void;
}

export type PauseType = "write" | "all";

/**
 * What a server with a log (cluster/shard-node.ts) adds to request handling:
 * refusing what this node may not run (a write on a replica, anything past
 * the primary's lease) and holding replies until the log has committed what
 * they depend on.
 */
export interface DurableGate {
  /** A reply (an error, -MOVED) to send instead of running the command, or null to run it. */
  admit(conn: Connection, argv: readonly string[]): Reply | null;
  /** The seq the reply must wait for; argv is null for a pushed or blocked command's reply. */
  waitSeq(conn: Connection, argv: readonly string[] | null, wrote: boolean): number;
  /** `conn` holds replies until a commit releases them. */
  holding(conn: Connection): void;
}

/** Extra CLIENT LIST facts other modules know (pub/sub, tracking). */
export interface ClientExtra {
  /** Flag letters to add, e.g. "P" (pub/sub), "t" (tracking). */
  flags?: string;
  sub?: number;
  psub?: number;
  ssub?: number;
  redir?: number;
}

/** How long a graceful close waits for clients to take their last replies. */
const CLOSE_GRACE_MS = 2000;
/** How often idle clients and client pause deadlines are checked. */
const CLIENTS_CRON_MS = 1000;

const PAUSE_BLOCKER: Blocker = { kind: "pause" };

/** Redis's sdscatrepr: a double-quoted string with C escapes for what is not printable. */
export function quoteRepr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? "";
    const c = s.charCodeAt(i);
    if (ch === "\\" || ch === '"') out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 7) out += "\\a";
    else if (c === 8) out += "\\b";
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else out += `\\x${c.toString(16).padStart(2, "0")}`;
  }
  return `${out}"`;
}

export class Server implements ConnectionHost {
  readonly engine: Engine;
  readonly writer = new RespWriter();
  readonly clients = new Map<number, Connection>();
  readonly startedAtMs = Date.now();
  private readonly net: NetServer;
  private cron: NodeJS.Timeout | null = null;
  private lastClientsCronMs = 0;
  activeExpireEnabled = true;
  port: number;
  readonly host: string;
  readonly log: (line: string) => void;
  private readonly onShutdown: (() => void) | undefined;
  /** The active CLIENT PAUSE, or null. */
  pause: { type: PauseType; untilMs: number } | null = null;
  private pauseTimer: NodeJS.Timeout | null = null;
  /** Connections holding a request until the pause ends, in the order they were paused. */
  private readonly pausedConns = new Set<Connection>();
  /** Connections to resume on the next turn, in order. */
  private readonly ready = new Set<Connection>();
  private readyScheduled = false;
  /** Connections in MONITOR mode. */
  readonly monitors = new Set<Connection>();
  /** Other modules describe their per-client state for CLIENT LIST here. */
  readonly clientInfoHooks: ((conn: Connection) => ClientExtra | null)[] = [];
  /** Other modules drop their per-client state on RESET here (unsubscribe, tracking off). */
  readonly resetHooks: ((conn: Connection) => void)[] = [];
  /** Peak query buffer of any client since the last clients cron (INFO client_recent_max_input_buffer). */
  private recentMaxInput = 0;
  private closing: Promise<void> | null = null;
  /** Set by a server with a log; null for the standalone server. */
  gate: DurableGate | null = null;
  private lastArgv: readonly string[] | null = null;
  private effectsBefore = 0;

  constructor(opts: ServerOptions) {
    this.engine = opts.engine ?? new Engine({ recordEffects: false });
    this.port = opts.port;
    this.host = opts.host ?? "127.0.0.1";
    this.log = opts.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.onShutdown = opts.onShutdown;
    this.engine.register(serverCommands(this));
    this.engine.register(clusterCommands(null));
    this.trackConfig();
    this.instrument();
    this.wireBlocking();
    this.addInfoProviders();
    this.net = createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
    this.net.maxConnections = 1_000_000;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.net.once("error", reject);
      this.net.listen(this.port, this.host, () => {
        this.net.off("error", reject);
        const addr = this.net.address();
        if (addr !== null && typeof addr === "object") this.port = addr.port;
        this.engine.config.set("port", String(this.port));
        this.startCron();
        resolve();
      });
    });
  }

  /** Adds subcommands to a container command (e.g. CLIENT TRACKING from the tracking module). */
  registerSubcommands(container: string, subs: readonly CommandSpec[]): void {
    const cur = this.engine.table.lookup(container);
    if (cur === undefined) throw new Error(`no command ${container}`);
    const names = new Set(subs.map((s) => s.name));
    const kept = (cur.spec.subcommands ?? []).filter((s) => !names.has(s.name));
    this.engine.register([{ ...cur.spec, subcommands: [...kept, ...subs] }]);
  }

  private trackConfig(): void {
    const config = this.engine.config;
    const stats = this.engine.stats;
    const update = (): void => {
      stats.slowerThanUs = config.getInt("slowlog-log-slower-than");
      stats.slowlogLenMax = config.getInt("slowlog-max-len");
      stats.slowlog.trim(stats.slowlogLenMax);
    };
    update();
    config.onChange("slowlog-log-slower-than", update);
    config.onChange("slowlog-max-len", update);
    config.onChange("hz", () => {
      if (this.cron !== null) this.startCron();
    });
  }

  /**
   * Times every command the engine runs (EXEC's queued ones included) for
   * INFO commandstats and the slow log, and feeds MONITOR.
   */
  private instrument(): void {
    const engine = this.engine;
    const stats = engine.stats;
    engine.onCommandDone = (c, session, argv, us, mode) => {
      c.usec += us;
      if (stats.isSlow(us)) stats.logSlow(c, argv, us, this.clients.get(session.id)?.addr ?? "", session.name);
      if (this.monitors.size > 0 && mode !== "apply") this.feedMonitors(c, argv, session, this.clients.get(session.id));
    };
  }

  /**
   * Blocking commands (BLPOP ...): the engine decides who blocks and who is
   * served; the connection stops executing until then, and the server enforces
   * the deadline.
   */
  private wireBlocking(): void {
    const blocking = this.engine.blocking;
    blocking.onBlock = (client) => {
      const conn = this.clients.get(client.session.id);
      if (conn === undefined) {
        blocking.remove(client.session);
        return;
      }
      conn.block({
        kind: "command",
        deadlineMs: client.deadlineMs,
        cancel: (reason) => {
          const c = blocking.remove(client.session);
          if (c === undefined || reason === "disconnect") return null;
          this.engine.countBlockedCall(c.argv);
          return reason === "timeout" ? c.timeoutReply : err("UNBLOCKED client unblocked via CLIENT UNBLOCK");
        },
      });
      if (client.deadlineMs > 0) {
        const delayMs = Math.max(0, client.deadlineMs - Date.now()) + 1;
        setTimeout(() => this.expireBlocked(Date.now()), delayMs).unref();
      }
    };
    blocking.onUnblock = (session, reply) => this.clients.get(session.id)?.unblock(reply);
  }

  /** MONITOR: every executed command except admin ones, as Redis formats it. */
  private feedMonitors(c: Command, argv: readonly string[], session: Session, conn: Connection | undefined): void {
    if (c.has(F_ADMIN) || c.spec.flags.includes("skip_monitor") || (c.parent?.has(F_ADMIN) ?? false)) return;
    const nowUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const ts = `${Math.floor(nowUs / 1e6)}.${String(nowUs % 1e6).padStart(6, "0")}`;
    const args = redactForLogs(c, argv).map(quoteRepr).join(" ");
    const line = simple(`${ts} [${session.db} ${conn?.addr ?? "lua"}] ${args}`);
    for (const m of this.monitors) m.send(line);
  }

  private addInfoProviders(): void {
    const stats = this.engine.stats;
    stats.addInfo("server", () => [["tcp_port", this.port]]);
    stats.addInfo("clients", () => {
      let blocked = 0;
      let maxOut = 0;
      for (const c of this.clients.values()) {
        if (c.blocked !== null) blocked++;
        if (c.outputBytes > maxOut) maxOut = c.outputBytes;
      }
      return [
        ["connected_clients", this.clients.size],
        ["client_recent_max_input_buffer", this.recentMaxInput],
        ["client_recent_max_output_buffer", maxOut],
        ["blocked_clients", blocked],
      ];
    });
    stats.addInfo("memory", () => {
      let normal = 0;
      for (const c of this.clients.values()) normal += c.queryBytes + c.outputBytes;
      return [["mem_clients_normal", normal]];
    });
  }

  private accept(socket: Socket): void {
    const stats = this.engine.stats;
    const maxclients = this.engine.config.getInt("maxclients");
    if (this.closing !== null || this.clients.size >= maxclients) {
      stats.rejectedConnections++;
      socket.on("error", () => socket.destroy());
      socket.resume();
      socket.end("-ERR max number of clients reached\r\n");
      return;
    }
    let conn: Connection | null = null;
    const client = readIntoSharedBuffer(socket, (nread, buf) => conn?.onRead(nread, buf));
    if (client === null) return;
    stats.totalConnections++;
    const session = this.engine.newSession();
    conn = new Connection(client, session, this);
    session.conn = conn;
    this.clients.set(session.id, conn);
  }

  beginTurn(nowMs: number): void {
    this.engine.beginTurn(nowMs);
  }

  endTurn(): void {
    this.engine.endTurn();
  }

  handle(conn: Connection, argv: string[]): Reply | Hold {
    const session = conn.session;
    if (this.pause !== null) {
      const cmd = resolveCommand(this.engine.table, argv);
      if (cmd !== undefined && this.mustWaitForPause(session, cmd, argv)) {
        conn.block(PAUSE_BLOCKER);
        this.pausedConns.add(conn);
        return HOLD;
      }
    }
    const gate = this.gate;
    if (gate !== null) {
      const refused = gate.admit(conn, argv);
      if (refused !== null) {
        this.lastArgv = null;
        return refused;
      }
      this.lastArgv = argv;
      this.effectsBefore = this.engine.effectsPending;
    }
    try {
      return this.engine.call(session, argv);
    } catch (e) {
      return this.internalError(argv, e);
    }
  }

  replyWaitSeq(conn: Connection, pushed: boolean): number {
    const gate = this.gate;
    if (gate === null) return 0;
    if (pushed) return gate.waitSeq(conn, null, false);
    const argv = this.lastArgv;
    this.lastArgv = null;
    // A refused command (admit answered it) waits for nothing.
    if (argv === null) return 0;
    return gate.waitSeq(conn, argv, this.engine.effectsPending > this.effectsBefore);
  }

  holding(conn: Connection): void {
    this.gate?.holding(conn);
  }

  /** A handler threw: answer the client, keep serving everyone else. */
  private internalError(argv: readonly string[], e: unknown): Reply {
    const message = e instanceof Error ? e.message : String(e);
    const stack = e instanceof Error && e.stack !== undefined ? `\n${e.stack}` : "";
    this.logLine("#", `internal error running '${(argv[0] ?? "").slice(0, 64)}': ${message}${stack}`);
    const text = `ERR internal error: ${message}`.replace(/[\r\n]+/g, " ");
    this.engine.stats.countError(text);
    return err(text);
  }

  /**
   * Redis's rule: a paused server still answers requests that fail before
   * running (unknown, wrong arity, NOAUTH, no_multi) and, for a WRITE pause,
   * everything that cannot change the dataset or replicate.
   */
  private mustWaitForPause(session: Session, cmd: Command, argv: readonly string[]): boolean {
    const pause = this.pause;
    if (pause === null) return false;
    if (Date.now() >= pause.untilMs) {
      this.unpause();
      return false;
    }
    if (!arityOk(cmd.spec.arity, argv.length) || (cmd.parent !== null && !arityOk(cmd.parent.spec.arity, argv.length))) return false;
    if (!session.authenticated && !cmd.has(F_NO_AUTH)) return false;
    if (session.multi !== null && cmd.has(F_NO_MULTI)) return false;
    if (pause.type === "all") return true;
    if (cmd.has(F_WRITE) || cmd.has(F_MAY_REPLICATE)) return true;
    if (cmd.fullName === "exec" && session.multi !== null) {
      for (const q of session.multi) {
        const c = resolveCommand(this.engine.table, q);
        if (c !== undefined && (c.has(F_WRITE) || c.has(F_MAY_REPLICATE))) return true;
      }
    }
    return false;
  }

  /** CLIENT PAUSE: the later deadline and the stronger type win, as in Redis. */
  pauseClients(type: PauseType, untilMs: number): void {
    const cur = this.pause;
    const next = {
      type: cur !== null && cur.type === "all" ? "all" : type,
      untilMs: cur === null ? untilMs : Math.max(cur.untilMs, untilMs),
    } as const;
    this.pause = next;
    const stats = this.engine.stats;
    if (stats.pausedRole === null) {
      // Expired keys read as missing but are not deleted while paused (Redis 7.0).
      stats.pausedRole = this.engine.role;
      this.engine.role = "replica";
    }
    if (this.pauseTimer !== null) clearTimeout(this.pauseTimer);
    const delay = Math.max(0, next.untilMs - Date.now());
    this.pauseTimer = setTimeout(() => this.unpause(), Math.min(delay, 2 ** 31 - 1));
  }

  /** Ends the pause and resumes the held clients in the order they were paused. */
  unpause(): void {
    if (this.pause === null) return;
    this.pause = null;
    if (this.pauseTimer !== null) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
    const stats = this.engine.stats;
    if (stats.pausedRole !== null) {
      this.engine.role = stats.pausedRole;
      stats.pausedRole = null;
    }
    const held = [...this.pausedConns];
    this.pausedConns.clear();
    for (const c of held) if (c.blocked === PAUSE_BLOCKER) c.unblock();
  }

  /** Resumes `conn` on a later turn (never re-entrantly: the writer is shared). */
  schedule(conn: Connection): void {
    this.ready.add(conn);
    if (this.readyScheduled) return;
    this.readyScheduled = true;
    setImmediate(() => this.runReady());
  }

  private runReady(): void {
    this.readyScheduled = false;
    const batch = [...this.ready];
    this.ready.clear();
    for (const c of batch) c.process();
  }

  queryBytesMax(): number {
    return this.engine.config.getInt("client-query-buffer-limit");
  }

  bulkBytesMax(): number {
    return this.engine.config.getInt("proto-max-bulk-len");
  }

  countNet(inBytes: number, outBytes: number): void {
    const stats = this.engine.stats;
    stats.netInputBytes += inBytes;
    stats.netOutputBytes += outBytes;
  }

  clientError(conn: Connection, message: string): void {
    this.logLine("-", `Client id=${conn.session.id} addr=${conn.addr}: ${message}`);
  }

  closed(conn: Connection): void {
    this.clients.delete(conn.session.id);
    this.pausedConns.delete(conn);
    this.ready.delete(conn);
    this.monitors.delete(conn);
    this.engine.forgetSession(conn.session);
  }

  /** Extra CLIENT LIST facts from the hooks, merged. */
  clientExtra(conn: Connection): Required<ClientExtra> {
    const out = { flags: "", sub: 0, psub: 0, ssub: 0, redir: -1 };
    for (const hook of this.clientInfoHooks) {
      const e = hook(conn);
      if (e === null) continue;
      out.flags += e.flags ?? "";
      out.sub += e.sub ?? 0;
      out.psub += e.psub ?? 0;
      out.ssub += e.ssub ?? 0;
      if (e.redir !== undefined) out.redir = e.redir;
    }
    return out;
  }

  private startCron(): void {
    if (this.cron !== null) clearInterval(this.cron);
    const hz = Math.min(500, Math.max(1, this.engine.config.getInt("hz")));
    this.cron = setInterval(() => this.tick(), Math.floor(1000 / hz));
    this.cron.unref();
  }

  /** Server-wide periodic work; an exception here is logged, never fatal. */
  private tick(): void {
    try {
      const now = Date.now();
      if (this.pause !== null && now >= this.pause.untilMs) this.unpause();
      if (this.activeExpireEnabled && this.pause === null) this.engine.activeExpireCycle(2);
      this.engine.stats.sampleOps(now);
      this.expireBlocked(now);
      if (now - this.lastClientsCronMs >= CLIENTS_CRON_MS) {
        this.lastClientsCronMs = now;
        this.clientsCron(now);
      }
    } catch (e) {
      this.logLine("#", `cron failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }

  /** Runs the blocked-command deadline check now (a WAIT's timer). */
  expireBlockedNow(): void {
    this.expireBlocked(Date.now());
  }

  /** Blocked commands whose deadline passed get their timeout reply and resume. */
  private expireBlocked(now: number): void {
    for (const c of this.clients.values()) {
      const b = c.blocked;
      if (b === null || b.deadlineMs === undefined || b.deadlineMs === 0 || now < b.deadlineMs) continue;
      const reply = b.cancel?.("timeout") ?? null;
      c.unblock(reply ?? undefined);
    }
  }

  /** Idle `timeout` (blocked and pub/sub clients are exempt, as in Redis) and buffer peaks. */
  private clientsCron(now: number): void {
    const timeoutS = this.engine.config.getInt("timeout");
    let peak = 0;
    for (const c of [...this.clients.values()]) {
      if (c.queryPeakBytes > peak) peak = c.queryPeakBytes;
      c.queryPeakBytes = c.queryBytes;
      if (timeoutS <= 0 || c.blocked !== null || this.monitors.has(c)) continue;
      if (now - c.session.lastInteractionMs <= timeoutS * 1000) continue;
      if (this.clientExtra(c).flags.includes("P")) continue;
      this.logLine("-", `Closing idle client id=${c.session.id} addr=${c.addr}`);
      c.destroy();
    }
    this.recentMaxInput = peak;
  }

  /** A Redis-style log line: "pid:M 01 Jan 2024 00:00:00.000 * message". */
  logLine(level: "." | "-" | "*" | "#", message: string): void {
    const d = new Date();
    const pad = (n: number, w = 2): string => String(n).padStart(w, "0");
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const ts = `${pad(d.getDate())} ${months[d.getMonth()] ?? ""} ${d.getFullYear()} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
    this.log(`${process.pid}:M ${ts} ${level} ${message}`);
  }

  /**
   * Graceful stop: stop accepting, let every client take the replies already
   * produced, then close them (forcibly after a grace period).
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    if (this.cron !== null) clearInterval(this.cron);
    this.cron = null;
    if (this.pauseTimer !== null) clearTimeout(this.pauseTimer);
    this.pauseTimer = null;
    const listenerClosed = new Promise<void>((resolve) => this.net.close(() => resolve()));
    const clientsGone = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.clients.size === 0) resolve();
      };
      for (const c of [...this.clients.values()]) {
        c.socket.once("close", check);
        c.closeSoon();
      }
      check();
      const force = setTimeout(() => {
        for (const c of [...this.clients.values()]) c.destroy();
        resolve();
      }, CLOSE_GRACE_MS);
      force.unref();
    });
    this.closing = Promise.all([listenerClosed, clientsGone]).then(() => undefined);
    return this.closing;
  }

  /** SHUTDOWN: log like Redis, close everything, then tell the embedder (the CLI exits). */
  shutdown(reason: string): void {
    this.logLine("#", `User requested shutdown (${reason})...`);
    this.logLine("*", "Snapshots are built off-box from the log: nothing to save here.");
    void this.close().then(() => {
      this.logLine("#", "Mnemo is now ready to exit, bye bye...");
      this.onShutdown?.();
    });
  }
}
