// The TCP server: accepts clients, runs their requests on the engine, and
// keeps the server-wide jobs (active expiry, idle clients).
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { RespWriter } from "../resp/encoder";
import { err, type Reply } from "../resp/reply";
import { Engine } from "../engine/engine";
import { Connection, type ConnectionHost } from "./connection";
import { serverCommands } from "./commands";

export interface ServerOptions {
  port: number;
  host?: string;
  engine?: Engine;
  /** Log lines go here (stdout by default). */
  log?: (line: string) => void;
}

export class Server implements ConnectionHost {
  readonly engine: Engine;
  readonly writer = new RespWriter();
  readonly clients = new Map<number, Connection>();
  readonly startedAtMs = Date.now();
  private readonly net: NetServer;
  private cron: NodeJS.Timeout | null = null;
  private cronRuns = 0;
  totalConnections = 0;
  rejectedConnections = 0;
  activeExpireEnabled = true;
  port: number;
  readonly host: string;
  readonly log: (line: string) => void;

  constructor(opts: ServerOptions) {
    this.engine = opts.engine ?? new Engine({ recordEffects: false });
    this.port = opts.port;
    this.host = opts.host ?? "127.0.0.1";
    this.log = opts.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.engine.register(serverCommands(this));
    this.net = createServer((socket) => this.accept(socket));
    this.net.maxConnections = 1_000_000;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.net.once("error", reject);
      this.net.listen(this.port, this.host, () => {
        this.net.off("error", reject);
        const addr = this.net.address();
        if (addr !== null && typeof addr === "object") this.port = addr.port;
        this.startCron();
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    const maxclients = this.engine.config.getInt("maxclients");
    if (this.clients.size >= maxclients) {
      this.rejectedConnections++;
      socket.end("-ERR max number of clients reached\r\n");
      return;
    }
    this.totalConnections++;
    const session = this.engine.newSession();
    const conn = new Connection(socket, session, this);
    session.conn = conn;
    this.clients.set(session.id, conn);
  }

  handle(conn: Connection, argv: string[]): Reply {
    const session = conn.session;
    session.lastInteractionMs = Date.now();
    session.lastCommand = (argv[0] ?? "").toLowerCase();
    return this.engine.call(session, argv);
  }

  queryBytesMax(): number {
    return this.engine.config.getInt("client-query-buffer-limit");
  }

  bulkBytesMax(): number {
    return this.engine.config.getInt("proto-max-bulk-len");
  }

  closed(conn: Connection): void {
    this.clients.delete(conn.session.id);
    this.engine.forgetSession(conn.session);
  }

  private startCron(): void {
    const hz = Math.max(1, this.engine.config.getInt("hz"));
    this.cron = setInterval(() => this.tick(), Math.floor(1000 / hz));
    this.cron.unref();
  }

  /** Server-wide periodic work: active expiry, idle client timeout. */
  private tick(): void {
    this.cronRuns++;
    if (this.activeExpireEnabled) this.engine.activeExpireCycle(2);
    const timeoutS = this.engine.config.getInt("timeout");
    if (timeoutS > 0 && this.cronRuns % 10 === 0) {
      const now = Date.now();
      for (const c of this.clients.values()) {
        if (now - c.session.lastInteractionMs > timeoutS * 1000) c.destroy();
      }
    }
  }

  /** Stops accepting, closes every client, and resolves when the socket is closed. */
  close(): Promise<void> {
    if (this.cron !== null) clearInterval(this.cron);
    for (const c of this.clients.values()) c.destroy();
    return new Promise((resolve) => this.net.close(() => resolve()));
  }

  errorReply(message: string): Reply {
    return err(message);
  }
}
