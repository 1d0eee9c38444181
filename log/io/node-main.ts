// A log-service node as a process:
//   --id az-a --port 7001 --peers az-b=127.0.0.1:7002,az-c=127.0.0.1:7003
//   --data-dir D --secret-file F [--host 127.0.0.1] [--tick-ms 10]
//   [--client-port P] [--az-delay-ms N]
//   [--compact-min-bytes N] [--wal-segment-bytes N] [--window-records N]   (tuning; tests use small values)
// Prints one line when it listens and serves until SIGTERM (or SIGINT).
import { startClientListener } from "./client-listener";
import * as fs from "node:fs";
import { LogNode, NODE_WINDOW_LIMITS } from "./node";
import type { PeerAddress } from "./transport";

export interface LogNodeArgs {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly peers: Record<string, PeerAddress>;
  readonly dataDir: string;
  readonly secretFile: string;
  readonly tickMs: number;
  /** Port for LogClient connections (absent: no client listener). */
  readonly clientPort: number | null;
  /** Injected delay on every message to a peer, modelling inter-AZ latency (default 0). */
  readonly azDelayMs: number;
  /** Tuning knobs; null keeps the node's default. */
  readonly compactMinBytes: number | null;
  readonly walSegmentBytes: number | null;
  readonly windowRecords: number | null;
}

function parseCount(v: Map<string, string>, name: string, min: number, max: number): number | null {
  const s = v.get(name);
  if (s === undefined) return null;
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

function parsePort(s: string, what: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${what}: bad port ${JSON.stringify(s)}`);
  return n;
}

export function parseLogNodeArgs(args: readonly string[]): LogNodeArgs {
  const v = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${JSON.stringify(a)}`);
    const eq = a.indexOf("=");
    if (eq > 0) v.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const next = args[i + 1];
      if (next === undefined) throw new Error(`${a} needs a value`);
      v.set(a.slice(2), next);
      i++;
    }
  }
  const known = new Set(["id", "host", "port", "peers", "data-dir", "secret-file", "tick-ms", "client-port", "az-delay-ms", "compact-min-bytes", "wal-segment-bytes", "window-records"]);
  for (const k of v.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}`);
  const need = (k: string): string => {
    const x = v.get(k);
    if (x === undefined || x === "") throw new Error(`--${k} is required`);
    return x;
  };
  const id = need("id");
  const peers: Record<string, PeerAddress> = {};
  for (const part of need("peers").split(",").filter((p) => p !== "")) {
    const m = /^([^=]+)=(.+):(\d+)$/.exec(part);
    if (m === null) throw new Error(`--peers: bad entry ${JSON.stringify(part)} (want id=host:port)`);
    const pid = m[1] as string;
    if (pid === id) throw new Error(`--peers lists this node (${id}) itself`);
    if (peers[pid] !== undefined) throw new Error(`--peers lists ${pid} twice`);
    peers[pid] = { host: m[2] as string, port: parsePort(m[3] as string, `--peers ${pid}`) };
  }
  if (Object.keys(peers).length === 0) throw new Error("--peers must name at least one other node");
  const tickMs = Number(v.get("tick-ms") ?? "10");
  if (!Number.isInteger(tickMs) || tickMs < 1) throw new Error("--tick-ms must be a positive integer");
  const azDelayMs = parseCount(v, "az-delay-ms", 0, 60_000) ?? 0;
  return {
    id,
    host: v.get("host") ?? "127.0.0.1",
    port: parsePort(need("port"), "--port"),
    peers,
    dataDir: need("data-dir"),
    secretFile: need("secret-file"),
    tickMs,
    clientPort: v.has("client-port") ? parsePort(need("client-port"), "--client-port") : null,
    azDelayMs,
    compactMinBytes: parseCount(v, "compact-min-bytes", 1024, Number.MAX_SAFE_INTEGER),
    walSegmentBytes: parseCount(v, "wal-segment-bytes", 4096, 1 << 30),
    windowRecords: parseCount(v, "window-records", 0, 1 << 24),
  };
}

/** Runs a log node until SIGTERM/SIGINT; resolves with the process exit code. */
export async function runLogNode(args: readonly string[]): Promise<number> {
  let a: LogNodeArgs;
  let secret: string;
  try {
    a = parseLogNodeArgs(args);
    secret = fs.readFileSync(a.secretFile, "utf8").trim();
    if (secret === "") throw new Error(`secret file ${a.secretFile} is empty`);
  } catch (e) {
    process.stderr.write(`mnemo log: ${(e as Error).message}\n`);
    return 2;
  }
  let halted: Error | null = null;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const node = await LogNode.start({
    id: a.id,
    host: a.host,
    port: a.port,
    peers: a.peers,
    dataDir: a.dataDir,
    secret,
    tickMs: a.tickMs,
    azDelayMs: a.azDelayMs,
    ...(a.compactMinBytes !== null ? { compaction: { minBytes: a.compactMinBytes } } : {}),
    ...(a.walSegmentBytes !== null ? { wal: { segmentBytes: a.walSegmentBytes } } : {}),
    ...(a.windowRecords !== null ? { windowLimits: { ...NODE_WINDOW_LIMITS, windowRecordsMax: a.windowRecords } } : {}),
    onHalt: (err) => {
      halted = err;
      process.stderr.write(`log node ${a.id} stopped: ${err.message}\n`);
      wake();
    },
  });
  const clients = a.clientPort === null ? null : await startClientListener(node, { port: a.clientPort, host: a.host, secret });
  const clientsNote = clients === null ? "" : `, clients on ${a.host}:${clients.port}`;
  process.stdout.write(`log node ${a.id} listening on ${a.host}:${node.port}${clientsNote} (pid ${process.pid})\n`);
  const onSignal = (): void => wake();
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // The tick timer is unref'd; this keeps the process alive until a signal.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await stopped;
  clearInterval(keepAlive);
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  if (clients !== null) await clients.close();
  await node.close();
  return halted === null ? 0 : 1;
}

if (require.main === module) {
  runLogNode(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`mnemo log: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
